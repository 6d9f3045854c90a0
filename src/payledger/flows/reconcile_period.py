"""Reconcile a period: PayTrace's settled batches against D365's payment lines, then act.

Steps: verify the heals of earlier runs; fetch the period's batches and the ledger lines
around it; match; look once more, by reference and by id, for what seems missing on either
side (dated outside the window, or created before it); heal what is missing in D365 through
the inbox; enqueue the batches' deposits; store the report; alert when it has too many
exceptions. Missing in PayTrace is only ever reported.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from payledger.domain.clock import Clock
from payledger.domain.errors import DomainError, PayLedgerError
from payledger.domain.money import Money, minor_units
from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile import (
    Discrepancy,
    Item,
    MatchRules,
    Period,
    PostingFacts,
    Reconciliation,
    ReportContext,
    build_report,
    posting_items,
    reconcile,
    to_csv,
    to_html,
    txn_of_reference,
)
from payledger.domain.reconcile.report import expected_reference
from payledger.domain.reconcile.runs import DepositOrder, HealRequest, HealState, RunRecord
from payledger.flows.ports import (
    LedgerLines,
    OperatorAlerts,
    PostingFollowUp,
    Progress,
    ReconStore,
    Settlement,
    SettlementSource,
    no_progress,
)
from payledger.flows.post_summary import SummaryPosting
from payledger.flows.reconcile_summary import reconcile_summaries

D = Discrepancy


@dataclass(frozen=True)
class ReconcileCommand:
    """Reconcile the batches closed on the vendor-local days ``first``..``last``."""

    first: date
    last: date
    trigger: str = "cli"


@dataclass(frozen=True)
class ReconcilePolicy:
    """The part of the configuration a run decides with."""

    company: str
    rules: MatchRules
    auto_heal: bool = True
    deposits: bool = False
    alert_threshold: int = 0
    report_url: str = ""
    unposted_alert_hours: float = 36.0
    """A journal unposted this long is an exception (with a :class:`PostingFollowUp`)."""


@dataclass(frozen=True)
class ReconcileResult:
    run_id: int
    report: dict[str, Any]

    @property
    def exceptions(self) -> int:
        return int(self.report["exceptions"])


def window(cmd: ReconcileCommand, rules: MatchRules, today: date) -> tuple[date, date]:
    """The days whose ledger lines and gateway transactions can concern the period (none
    after ``today``)."""
    before = rules.lag_days + rules.settlement_days
    after = min(cmd.last + timedelta(days=rules.date_window_days), max(today, cmd.last))
    return cmd.first - timedelta(days=before), after


async def reconcile_period(
    cmd: ReconcileCommand,
    *,
    policy: ReconcilePolicy,
    gateway: SettlementSource,
    ledger: LedgerLines,
    store: ReconStore,
    clock: Clock,
    alerts: OperatorAlerts | None = None,
    progress: Progress = no_progress,
    summary: SummaryPosting | None = None,
    posting: PostingFollowUp | None = None,
) -> ReconcileResult:
    """Run one reconciliation and store its report; raise (the run marked failed) on errors.

    With ``summary`` (daily-summary mode) each settled batch's summary lines are owed and
    matched instead of one line per payment (``flows.reconcile_summary``). With ``posting``,
    journals unposted too long and posted lines whose invoice is still open are classified
    too."""
    if cmd.last < cmd.first:
        raise DomainError(f"reconcile: {cmd.last} is before {cmd.first}")
    run_id = await store.start_run(policy.company, cmd.first, cmd.last, cmd.trigger)
    try:
        verified = await verify_heals(policy.company, ledger, store)
        around = window(cmd, policy.rules, clock.now().date())
        settlement = await gateway.settlement(cmd.first, cmd.last, around, progress)
        lines = await ledger.lines_between(*around, progress)
        period = Period(cmd.first.toordinal(), cmd.last.toordinal())
        # Matching a large period takes seconds of CPU: off the event loop, so a worker keeps
        # renewing its other jobs' leases meanwhile.
        if summary is None:
            recon = await asyncio.to_thread(reconcile, settlement.txns, lines, policy.rules, period)
            recon = await _second_look(recon, cmd, gateway, ledger)
        else:
            checked = await reconcile_summaries(
                settlement,
                lines,
                period,
                company=policy.company,
                rules=policy.rules,
                ledger=ledger,
                summary=summary,
            )
            recon = checked.recon
        if posting is not None:
            recon.notable.extend(await _posting_items(recon, posting, policy, clock))
        if summary is None:
            heals = await _heal(recon, gateway, store) if policy.auto_heal else {}
            orders = _deposit_orders(settlement, recon, policy.company) if policy.deposits else []
        else:
            heals, orders = checked.heals, checked.deposits
        deposits = await store.enqueue_deposits(orders) if policy.deposits else {}
        context = ReportContext(
            run_id=run_id,
            company=policy.company,
            first_day=cmd.first,
            last_day=cmd.last,
            generated_at=clock.now().isoformat(timespec="seconds"),
            heals=heals,
            deposits=deposits,
            no_deposit="-" if policy.deposits else "off",
            verified_heals=verified,
        )
        report = await asyncio.to_thread(build_report, recon, context)
        if summary is not None:
            report["granularity"] = "daily_summary"
        await store.finish_run(run_id, _record(report))
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the original error matters more
            await store.fail_run(run_id, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    if alerts is not None and report["exceptions"] > policy.alert_threshold:
        await _alert(alerts, policy, report)
    return ReconcileResult(run_id, report)


async def _posting_items(
    recon: Reconciliation, posting: PostingFollowUp, policy: ReconcilePolicy, clock: Clock
) -> list[Item]:
    marked = await posting.marked_invoices(recon.lines)
    balances = await posting.invoice_balances(sorted(set(marked.values()))) if marked else {}
    facts = PostingFacts(
        marked, balances, clock.now().date().toordinal(), policy.unposted_alert_hours
    )
    return posting_items(recon.lines, facts)


async def verify_heals(company: str, ledger: LedgerLines, store: ReconStore) -> int:
    """Heals of earlier runs whose line is in the ledger now are verified; those whose
    posting was parked or was posted and then disappeared are handed to a human."""
    outstanding = await store.outstanding_heals(company)
    if not outstanding:
        return 0
    found = {
        line.reference
        for line in await ledger.lines_with_references([h.reference for h in outstanding])
    }
    verified = [h.item_id for h in outstanding if h.reference in found]
    waiting = [h for h in outstanding if h.reference not in found]
    postings = await store.posting_states([h.txn_id for h in waiting])
    states = {
        h.item_id: _heal_state_of(postings[h.txn_id]) for h in waiting if h.txn_id in postings
    }
    await store.record_heals(verified, {k: v for k, v in states.items() if v})
    return len(verified)


def _heal_state_of(posting_state: str) -> str:
    return {
        "dead": HealState.PARKED,
        "posted": HealState.NEEDS_ATTENTION,
        "cancelled": HealState.NEEDS_ATTENTION,
    }.get(posting_state, "")


async def _second_look(
    recon: Reconciliation, cmd: ReconcileCommand, gateway: SettlementSource, ledger: LedgerLines
) -> Reconciliation:
    """Before calling anything missing: lines found by reference at any date, transactions
    found by id whatever their date; match again if either turned anything up."""
    missing = [recon.txns[i.txn] for i in recon.notable if i.kind is D.MISSING_IN_D365]
    have = {line.line_id for line in recon.lines}
    extra_lines = [
        line
        for line in (
            await ledger.lines_with_references([expected_reference(t) for t in missing])
            if missing
            else []
        )
        if line.line_id not in have
    ]
    unknown = sorted(
        {
            txn_id
            for item in recon.notable
            if item.kind is D.MISSING_IN_PAYTRACE and item.by_reference
            for txn_id in [txn_of_reference(recon.lines[item.line].reference)]
            if txn_id
        }
    )
    known = {t.txn_id for t in recon.txns}
    extra_txns = [
        t
        for t in (await gateway.transactions(unknown, cmd.first, cmd.last) if unknown else [])
        if t.txn_id not in known
    ]
    if not (extra_lines or extra_txns):
        return recon
    return reconcile(
        [*recon.txns, *extra_txns], [*recon.lines, *extra_lines], recon.rules, recon.period
    )


async def _heal(
    recon: Reconciliation, gateway: SettlementSource, store: ReconStore
) -> dict[str, str]:
    """Each settled payment missing in D365, fetched again and stored through the inbox."""
    requests: list[HealRequest] = []
    states: dict[str, str] = {}
    for item in recon.notable:
        if item.kind is not D.MISSING_IN_D365:
            continue
        txn = recon.txns[item.txn]
        try:
            event = await gateway.observe(txn.txn_id)
        except PayLedgerError:
            states[txn.txn_id] = HealState.FAILED
            continue
        requests.append(HealRequest(event, expected_reference(txn), txn.operation.value))
    if requests:
        states.update(await store.heal(requests))
    return states


def _deposit_orders(
    settlement: Settlement, recon: Reconciliation, company: str
) -> list[DepositOrder]:
    """Each batch with its payout (net less the expected fees) and its expected fees."""
    fees = recon.rules.fees
    expected: dict[str, int] = {}
    if fees.is_configured:
        for t in recon.txns:
            if t.in_period and t.operation is LedgerOperation.PAYMENT:
                fee = fees.fee(t.card_type, t.amount, t.currency)
                expected[t.batch] = expected.get(t.batch, 0) + fee
    orders = []
    for batch in settlement.batches:
        currency = batch.net.currency
        minor = expected.get(batch.number, 0)
        batch_fees = Money(Decimal(minor).scaleb(-minor_units(currency)), currency)
        payout = replace(batch, net=batch.net - batch_fees, fees=batch_fees)
        orders.append(DepositOrder(company, payout))
    return orders


def _record(report: dict[str, Any]) -> RunRecord:
    items = [
        {
            "class": item["class"],
            "exception": int(item["exception"]),
            "txn_id": item["txn_id"],
            "reference": item["reference"][:80],
            "batch_number": item["batch"],
            "card_type": item["card_type"][:20],
            "currency": item["currency"],
            "paytrace_amount": item["paytrace_amount"],
            "d365_amount": item["d365_amount"],
            "d365_lines": " ".join(item["d365_lines"])[:200],
            "note": item["note"],
            "heal_state": item["heal"] or None,
        }
        for item in report["items"]
    ]
    return RunRecord(report, to_csv(report), to_html(report), items)


async def _alert(
    alerts: OperatorAlerts, policy: ReconcilePolicy, report: Mapping[str, Any]
) -> None:
    period = report["period"]
    run = report["run"]
    link = (
        policy.report_url.format(run=run)
        if policy.report_url
        else f"/api/v1/reconciliations/{run}/report.html (payledger reconcile show {run} "
        "--format html)"
    )
    classes = {
        kind: total["exceptions"]
        for kind, total in report["totals"]["by_class"].items()
        if total["exceptions"]
    }
    facts: dict[str, object] = {kind.replace("_", " "): count for kind, count in classes.items()}
    facts["report"] = link
    await alerts.notify(
        f"reconcile:{policy.company}:{period['from']}:{period['to']}",
        f"Reconciliation {period['from']}..{period['to']}: {report['exceptions']} exception(s)",
        f"Run {run} of {policy.company} found {report['exceptions']} exception(s) between "
        f"PayTrace and D365. Report: {link}",
        facts=facts,
    )


@dataclass(frozen=True)
class ReconcileParts:
    """The policy and ports a reconciliation runs with."""

    policy: ReconcilePolicy
    gateway: SettlementSource
    ledger: LedgerLines
    store: ReconStore
    clock: Clock
    alerts: OperatorAlerts | None = None
    summary: SummaryPosting | None = None
    """Set in daily-summary mode."""
    posting: PostingFollowUp | None = None


async def run_reconciliation(
    first: date,
    last: date,
    parts: ReconcileParts,
    *,
    trigger: str = "cli",
    progress: Progress = no_progress,
) -> ReconcileResult:
    """Reconcile the gateway's days ``first``..``last`` against the ledger's company."""
    return await reconcile_period(
        ReconcileCommand(first, last, trigger),
        policy=parts.policy,
        gateway=parts.gateway,
        ledger=parts.ledger,
        store=parts.store,
        clock=parts.clock,
        alerts=parts.alerts,
        progress=progress,
        summary=parts.summary,
        posting=parts.posting,
    )
