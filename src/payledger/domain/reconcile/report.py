"""The report of one reconciliation as a plain document (JSON-ready: text, ints, lists).

Totals per class, per card type and per batch cover every item; the item list holds only
what is not plainly matched (exceptions, and timing differences within the lag), each with
the ids a person needs to look it up on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from payledger.domain.posting import LedgerOperation, payment_reference
from payledger.domain.reconcile.compare import amount_text
from payledger.domain.reconcile.match import Reconciliation
from payledger.domain.reconcile.model import Discrepancy, GatewayTxn, Item
from payledger.domain.reconcile.totals import day_text as _day
from payledger.domain.reconcile.totals import totals
from payledger.domain.summary import is_summary_reference

REPORT_VERSION = 1


def expected_reference(txn: GatewayTxn) -> str:
    """The ``PaymentReference`` payledger's line for ``txn`` carries (a summary line's record
    carries its reference as its id)."""
    if is_summary_reference(txn.txn_id):
        return txn.txn_id
    return payment_reference(txn.txn_id, txn.operation)


def _signed(txn: GatewayTxn) -> int:
    return txn.amount if txn.operation is LedgerOperation.PAYMENT else -txn.amount


@dataclass(frozen=True)
class ReportContext:
    """What the report says about the run besides the items."""

    run_id: int
    company: str
    first_day: date
    last_day: date
    generated_at: str
    heals: Mapping[str, str] = field(default_factory=dict)
    """Auto-heal state by gateway transaction id."""
    deposits: Mapping[str, str] = field(default_factory=dict)
    """Deposit posting state by batch number."""
    no_deposit: str = "off"
    """Shown for batches without a deposit state (deposits off, or checks without a batch)."""
    verified_heals: int = 0
    """Heals of earlier runs found in D365 by this run."""


def build_report(recon: Reconciliation, context: ReportContext) -> dict[str, Any]:
    """The report document of ``recon``."""
    sums = totals(recon)
    listed = [
        _item_document(recon, item, context)
        for item in recon.notable
        if item.kind is not Discrepancy.MATCHED
    ]
    return {
        "version": REPORT_VERSION,
        "run": context.run_id,
        "company": context.company,
        "period": {"from": context.first_day.isoformat(), "to": context.last_day.isoformat()},
        "generated_at": context.generated_at,
        "counts": {kind.value: total.count for kind, total in sums.by_class.items()},
        "exceptions": sum(total.exceptions for total in sums.by_class.values()),
        "totals": {
            "by_class": {kind.value: total.document() for kind, total in sums.by_class.items()},
            "by_card_type": {
                card: sums.by_card_type[card].document() for card in sorted(sums.by_card_type)
            },
            "by_batch": [
                {
                    "batch": number,
                    "settled": sums.settled.get(number, ""),
                    "deposit": context.deposits.get(number, context.no_deposit),
                    **sums.by_batch[number].document(),
                }
                for number in sorted(sums.by_batch, key=_batch_order)
            ],
        },
        "heals": _heal_counts(context),
        "items": sorted(listed, key=lambda doc: (not doc["exception"], doc["class"])),
    }


def _batch_order(number: str) -> tuple[int, str]:
    return (int(number), number) if number.isdigit() else (0, number)


def _heal_counts(context: ReportContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in context.heals.values():
        counts[state] = counts.get(state, 0) + 1
    if context.verified_heals:
        counts["verified_from_earlier_runs"] = context.verified_heals
    return counts


def _item_document(recon: Reconciliation, item: Item, context: ReportContext) -> dict[str, Any]:
    txn = recon.txns[item.txn] if item.txn >= 0 else None
    involved = [recon.lines[j] for j in item.lines]
    currency = txn.currency if txn else (involved[0].currency if involved else "")
    d365_total = sum(line.amount for line in involved)
    return {
        "class": item.kind.value,
        "exception": item.exception,
        "reference": expected_reference(txn) if txn else involved[0].reference,
        "txn_id": txn.txn_id if txn else "",
        "kind": txn.operation.value if txn else "",
        "paytrace_status": txn.state.value if txn else "",
        "batch": txn.batch if txn else "",
        "settled": _day(txn.settled_day) if txn else "",
        "card_type": txn.card_type if txn else "",
        "customer": (txn.customer if txn and txn.customer else "")
        or (involved[0].customer if involved else ""),
        "currency": currency,
        "paytrace_amount": amount_text(_signed(txn), txn.currency) if txn else "",
        "d365_amount": amount_text(d365_total, involved[0].currency) if involved else "",
        "d365_references": [line.reference for line in involved],
        "d365_lines": [line.line_id for line in involved],
        "d365_date": _day(involved[0].day) if involved else "",
        "found_by": "reference" if item.by_reference else "amount, date and customer",
        "note": item.note,
        "heal": context.heals.get(txn.txn_id, "") if txn else "",
    }
