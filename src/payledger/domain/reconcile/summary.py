"""Reconciliation in daily-summary mode, pure: the period's settled batches, and each
batch's expected method lines against the D365 lines carrying their references.

Each expected line stands in the reconciliation as one gateway record (its reference as
the transaction id, its method as the card type), so the usual report, totals and
renderings apply unchanged: matched, missing in D365, amount, currency or duplicate in D365;
a summary line dated in the period that no batch explains is missing in PayTrace.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import date

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile.compare import amount_text
from payledger.domain.reconcile.fees import FeeSchedule
from payledger.domain.reconcile.match import Reconciliation
from payledger.domain.reconcile.model import (
    Discrepancy,
    GatewayTxn,
    Item,
    LedgerEntry,
    MatchRules,
    Period,
    TxnState,
)
from payledger.domain.summary import (
    ACH,
    SettledBatch,
    SummaryLine,
    SummaryMember,
    is_summary_reference,
    method_of,
    minor_money,
)

D = Discrepancy


def settled_batches(txns: Iterable[GatewayTxn], fees: FeeSchedule) -> list[SettledBatch]:
    """The period's settled transactions (``in_period``) as batches, ordered by number.

    Checks settle without a batch number: those of one day form the batch ``ACH-<yyyymmdd>``.
    Expected fees are the fee schedule's, per payment, as the deposit journal counts them.
    """
    groups: dict[str, list[GatewayTxn]] = {}
    for t in txns:
        if t.in_period and t.state is TxnState.SETTLED:
            groups.setdefault(_batch_number(t), []).append(t)
    return [_batch(number, group, fees) for number, group in sorted(groups.items())]


def _batch_number(t: GatewayTxn) -> str:
    if t.batch != ACH:
        return t.batch
    return f"{ACH}-{date.fromordinal(t.settled_day):%Y%m%d}"


def _batch(number: str, txns: Sequence[GatewayTxn], schedule: FeeSchedule) -> SettledBatch:
    currency = txns[0].currency
    members = tuple(
        SummaryMember(
            number, t.txn_id, method_of(t.card_type), t.operation, minor_money(t.amount, currency)
        )
        for t in sorted(txns, key=lambda t: t.txn_id)
    )
    fee = sum(
        schedule.fee(t.card_type, t.amount, currency)
        for t in txns
        if t.operation is LedgerOperation.PAYMENT
    )
    settled_on = date.fromordinal(txns[0].settled_day)
    return SettledBatch(number, settled_on, currency, members, minor_money(fee, currency))


def summary_record(line: SummaryLine) -> GatewayTxn:
    """An expected summary line as reconciliation's gateway record."""
    day = line.settled_on.toordinal()
    return GatewayTxn(
        txn_id=line.reference,
        operation=LedgerOperation.PAYMENT if line.amount.is_positive else LedgerOperation.REFUND,
        state=TxnState.SETTLED,
        amount=abs(line.amount.minor),
        currency=line.amount.currency,
        batch=line.batch,
        settled_day=day,
        created_day=day,
        card_type=line.method,
        customer="",
        in_period=True,
    )


def match_summaries(
    expected: Sequence[SummaryLine],
    lines: Sequence[LedgerEntry],
    rules: MatchRules,
    period: Period,
    on_the_way: Collection[str] = (),
) -> Reconciliation:
    """Each expected line against the D365 lines with its reference.

    A missing line whose posting is ``on_the_way`` (owed, not yet written) is reported but
    is not an exception: in summary mode the run that first sees a batch creates its lines.
    """
    txns = [summary_record(line) for line in expected]
    by_reference: dict[str, list[int]] = {}
    for j, entry in enumerate(lines):
        if is_summary_reference(entry.reference):
            by_reference.setdefault(entry.reference, []).append(j)
    notable: list[Item] = []
    matched_txns, matched_lines = array("q"), array("q")
    for i, t in enumerate(txns):
        found = by_reference.pop(t.txn_id, [])
        signed = t.amount if t.operation is LedgerOperation.PAYMENT else -t.amount
        if not found:
            note = f"no D365 line for the {t.card_type} line of batch {t.batch}"
            if t.txn_id in on_the_way:
                note += " (owed: on its way to D365)"
            notable.append(Item(D.MISSING_IN_D365, i, -1, t.txn_id not in on_the_way, note))
        elif len(found) > 1:
            note = f"{len(found)} lines carry {t.txn_id}"
            notable.append(Item(D.DUPLICATE_IN_D365, i, found[0], True, note, tuple(found[1:])))
        elif lines[found[0]].currency != t.currency:
            note = f"batch in {t.currency}, D365 line in {lines[found[0]].currency}"
            notable.append(Item(D.CURRENCY_MISMATCH, i, found[0], True, note))
        elif lines[found[0]].amount != signed:
            note = (
                f"the batch's {t.card_type} net is {amount_text(signed, t.currency)}, "
                f"D365 has {amount_text(lines[found[0]].amount, t.currency)}"
            )
            notable.append(Item(D.AMOUNT_MISMATCH, i, found[0], True, note))
        else:
            matched_txns.append(i)
            matched_lines.append(found[0])
    for reference, involved in by_reference.items():
        for j in involved:
            if period.first_day <= lines[j].day <= period.last_day:
                note = f"no settled batch of the period explains {reference}"
                notable.append(Item(D.MISSING_IN_PAYTRACE, -1, j, True, note))
    # Fees are in the expected lines themselves: no per-payment fee estimate in the totals.
    rules = replace(rules, fees=FeeSchedule())
    return Reconciliation(txns, lines, notable, period, rules, matched_txns, matched_lines)
