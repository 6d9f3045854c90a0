"""Reconciliation in daily-summary mode: post each settled batch's summary, then check it.

For each batch settled in the period, the summary lines are owed (``flows.post_summary``:
once, whatever the number of runs; this is also the auto-heal of a line missing in D365) and
each expected line is matched by reference against D365, per method, to the cent. A line
whose posting is on its way is reported, not counted as an exception; one payledger wrote
that D365 no longer has needs a human; a refused one is parked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from payledger.domain.money import Money
from payledger.domain.reconcile import (
    Discrepancy,
    LedgerEntry,
    MatchRules,
    Period,
    Reconciliation,
)
from payledger.domain.reconcile.runs import DepositOrder, HealState
from payledger.domain.reconcile.summary import match_summaries, settled_batches
from payledger.domain.summary import SettledBatch, SummaryLine
from payledger.flows.ports import LedgerLines, Settlement
from payledger.flows.post_summary import SummaryPosting, post_summary

_HEAL = {
    "new": HealState.ENQUEUED,
    "planned": HealState.IN_FLIGHT,
    "sending": HealState.IN_FLIGHT,
    "unknown": HealState.IN_FLIGHT,
    "shadow": HealState.IN_FLIGHT,
    "dead": HealState.PARKED,
    "posted": HealState.NEEDS_ATTENTION,
    "cancelled": HealState.NEEDS_ATTENTION,
}
_ON_THE_WAY = frozenset({HealState.ENQUEUED, HealState.IN_FLIGHT})


@dataclass(frozen=True)
class SummaryCheck:
    recon: Reconciliation
    heals: dict[str, str]
    """Heal state of each expected line missing in D365, by reference."""
    deposits: list[DepositOrder]


async def reconcile_summaries(
    settlement: Settlement,
    lines: Sequence[LedgerEntry],
    period: Period,
    *,
    company: str,
    rules: MatchRules,
    ledger: LedgerLines,
    summary: SummaryPosting,
) -> SummaryCheck:
    """Owe the period's batches' summary lines (once) and match them against D365."""
    batches = settled_batches(settlement.txns, rules.fees)
    expected: list[SummaryLine] = []
    states: dict[str, str] = {}
    for batch in batches:
        recorded = await post_summary(batch, summary)
        expected += recorded.lines
        states.update(recorded.states)
    heal = {reference: _HEAL.get(state, HealState.IN_FLIGHT) for reference, state in states.items()}
    on_the_way = {reference for reference, state in heal.items() if state in _ON_THE_WAY}
    recon = await asyncio.to_thread(match_summaries, expected, lines, rules, period, on_the_way)
    missing = [recon.txns[i.txn].txn_id for i in recon.notable if _missing(i.kind)]
    if missing:  # a line dated outside the window is still found by its reference
        have = {line.line_id for line in lines}
        extra = [e for e in await ledger.lines_with_references(missing) if e.line_id not in have]
        if extra:
            recon = match_summaries(expected, [*lines, *extra], rules, period, on_the_way)
    heals: dict[str, str] = {
        recon.txns[i.txn].txn_id: heal[recon.txns[i.txn].txn_id]
        for i in recon.notable
        if _missing(i.kind) and recon.txns[i.txn].txn_id in heal
    }
    return SummaryCheck(recon, heals, _deposit_orders(settlement, batches, company))


def _missing(kind: Discrepancy) -> bool:
    return kind is Discrepancy.MISSING_IN_D365


def _deposit_orders(
    settlement: Settlement, batches: Sequence[SettledBatch], company: str
) -> list[DepositOrder]:
    """Each batch's payout (net less expected fees); the fees are in the summary's fee line,
    so the deposit journal carries none."""
    fees = {batch.number: batch.fees for batch in batches}
    orders = []
    for batch in settlement.batches:
        fee = fees.get(batch.number, Money.zero(batch.net.currency))
        zero = Money.zero(batch.net.currency)
        orders.append(DepositOrder(company, replace(batch, net=batch.net - fee, fees=zero)))
    return orders
