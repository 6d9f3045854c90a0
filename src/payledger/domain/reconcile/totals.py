"""Totals of a reconciliation per class, per card type and per batch, in one pass.

Items are first counted under a small composite key (class, error, card type, batch,
currencies) with plain integer sums, then folded into the three views: a million items cost
one dict lookup each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile.compare import amount_text
from payledger.domain.reconcile.match import Reconciliation
from payledger.domain.reconcile.model import Discrepancy

PAYMENT = LedgerOperation.PAYMENT
_NO_GROUP = ("", "", "")


@dataclass
class Total:
    """Items, errors and signed sums per currency of one group."""

    count: int = 0
    exceptions: int = 0
    paytrace: dict[str, int] = field(default_factory=dict)
    d365: dict[str, int] = field(default_factory=dict)
    fees: dict[str, int] = field(default_factory=dict)

    def fold(self, count: int, errors: int, sums: tuple[str, int, str, int, int]) -> None:
        self.count += count
        self.exceptions += errors
        txn_currency, paytrace, line_currency, d365, fees = sums
        if txn_currency:
            self.paytrace[txn_currency] = self.paytrace.get(txn_currency, 0) + paytrace
        if line_currency:
            self.d365[line_currency] = self.d365.get(line_currency, 0) + d365
        if fees:
            self.fees[txn_currency] = self.fees.get(txn_currency, 0) + fees

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "count": self.count,
            "exceptions": self.exceptions,
            "paytrace": money(self.paytrace),
            "d365": money(self.d365),
        }
        if self.fees:
            doc["expected_fees"] = money(self.fees)
        return doc


def money(sums: Mapping[str, int]) -> dict[str, str]:
    return {currency: amount_text(total, currency) for currency, total in sorted(sums.items())}


def day_text(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat() if ordinal > 0 else ""


@dataclass
class Totals:
    by_class: dict[Discrepancy, Total]
    by_card_type: dict[str, Total]
    by_batch: dict[str, Total]
    settled: dict[str, str]
    """Settlement date per batch."""


def totals(recon: Reconciliation) -> Totals:
    """Every item counted per class; those of the period's transactions per card and batch."""
    fees = recon.rules.fees if recon.rules.fees.is_configured else None
    txns, lines = recon.txns, recon.lines
    acc: dict[tuple[Any, ...], list[int]] = {}
    settled: dict[str, str] = {}
    _count_plain_matches(recon, acc, settled)
    for item in recon.notable:
        t_cur = l_cur = ""
        paytrace = d365 = fee = 0
        group = _NO_GROUP
        if item.txn >= 0:
            t = txns[item.txn]
            t_cur = t.currency
            paytrace = t.amount if t.operation is PAYMENT else -t.amount
            if t.in_period:
                group = ("p", t.card_type, t.batch)
                if t.batch not in settled:
                    settled[t.batch] = day_text(t.settled_day)
                if fees is not None and t.operation is PAYMENT:
                    fee = fees.fee(t.card_type, t.amount, t_cur)
        if item.line >= 0:
            line = lines[item.line]
            l_cur, d365 = line.currency, line.amount
            for j in item.more_lines:
                d365 += lines[j].amount
        key = (item.kind, item.exception, *group, t_cur, l_cur)
        slot = acc.get(key)
        if slot is None:
            slot = acc[key] = [0, 0, 0, 0]
        slot[0] += 1
        slot[1] += paytrace
        slot[2] += d365
        slot[3] += fee
    return _fold(acc, settled)


def _count_plain_matches(
    recon: Reconciliation, acc: dict[tuple[Any, ...], list[int]], settled: dict[str, str]
) -> None:
    """Matched by reference: the line carries the transaction's amount and currency."""
    fees = recon.rules.fees if recon.rules.fees.is_configured else None
    txns, matched = recon.txns, Discrepancy.MATCHED
    for i in recon.matched_txns:
        _, operation, _, amount, currency, batch, settled_day, _, card, _, _ = txns[i]
        key = (matched, False, "p", card, batch, currency, currency)
        slot = acc.get(key)
        if slot is None:
            slot = acc[key] = [0, 0, 0, 0]
            if batch not in settled:
                settled[batch] = day_text(settled_day)
        signed = amount if operation is PAYMENT else -amount
        slot[0] += 1
        slot[1] += signed
        slot[2] += signed
        if fees is not None and operation is PAYMENT:
            slot[3] += fees.fee(card, amount, currency)


def _fold(acc: dict[tuple[Any, ...], list[int]], settled: dict[str, str]) -> Totals:
    by_class = {kind: Total() for kind in Discrepancy}
    by_card: dict[str, Total] = {}
    by_batch: dict[str, Total] = {}
    for (kind, exception, scope, card, batch, t_cur, l_cur), slot in acc.items():
        count, paytrace, d365, fee = slot
        errors = count if exception else 0
        by_class[kind].fold(count, errors, (t_cur, paytrace, l_cur, d365, 0))
        if scope:
            sums = (t_cur, paytrace, l_cur, d365, 0)
            by_card.setdefault(card or "unknown", Total()).fold(count, errors, sums)
            by_batch.setdefault(batch, Total()).fold(
                count, errors, (t_cur, paytrace, l_cur, d365, fee)
            )
    return Totals(by_class, by_card, by_batch, settled)
