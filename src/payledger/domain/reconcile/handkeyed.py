"""Lines keyed by hand in D365: found by amount, date and customer instead of by reference."""

from __future__ import annotations

from collections.abc import Sequence

from payledger.domain.money import minor_units
from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile.compare import Comparer
from payledger.domain.reconcile.model import (
    Discrepancy,
    GatewayTxn,
    Item,
    LedgerEntry,
    MatchRules,
)


def _by_amount(
    lines: Sequence[LedgerEntry], hand: Sequence[int], used: bytearray
) -> dict[int, list[int]]:
    index: dict[int, list[int]] = {}
    for j in hand:
        if not used[j]:
            index.setdefault(lines[j].amount, []).append(j)
    return index


PAYMENT = LedgerOperation.PAYMENT


def _signed(t: GatewayTxn, amount: int) -> int:
    return amount if t.operation is PAYMENT else -amount


def _same_customer(t: GatewayTxn, line: LedgerEntry) -> bool:
    return not (t.customer and line.customer) or t.customer == line.customer


def _days_apart(t: GatewayTxn, line: LedgerEntry) -> int:
    return min(abs(line.day - t.created_day), abs(line.day - t.settled_day))


def match_by_amount(
    txns: Sequence[GatewayTxn],
    lines: Sequence[LedgerEntry],
    hand: Sequence[int],
    used: bytearray,
    unmatched: Sequence[int],
    rules: MatchRules,
) -> tuple[list[Item], list[int]]:
    """Pair transactions that have no line by reference with unused hand-keyed lines.

    A line qualifies when its currency is the transaction's, its amount is the transaction's
    (within ``amount_tolerance``, or net of the expected fee), its date within
    ``date_window_days`` of the payment or its settlement, and its customer the same when both
    sides know one. The closest date wins; exact amounts are tried first.

    Returns:
        The items of the pairs found, and the transactions still without a line.
    """
    if not unmatched:
        return [], []
    index = _by_amount(lines, hand, used)
    compare = Comparer(rules)
    fees = rules.fees if rules.fees.is_configured else None
    tolerances: dict[str, int] = {}
    items: list[Item] = []
    missing: list[int] = []
    for i in unmatched:
        t = txns[i]
        tolerance = tolerances.get(t.currency)
        if tolerance is None:
            exact = rules.amount_tolerance.scaleb(minor_units(t.currency))
            tolerance = tolerances.setdefault(t.currency, int(exact))
        amounts = [t.amount] + [t.amount + s * k for k in range(1, tolerance + 1) for s in (-1, 1)]
        if fees is not None and t.operation is LedgerOperation.PAYMENT:
            amounts.append(t.amount - fees.fee(t.card_type, t.amount, t.currency))
        j = _closest(t, lines, used, index, amounts, rules.date_window_days)
        if j < 0:
            missing.append(i)
            continue
        used[j] = 1
        items.append(compare.item(i, t, j, lines[j], by_reference=False))
    return items, missing


def _closest(
    t: GatewayTxn,
    lines: Sequence[LedgerEntry],
    used: bytearray,
    index: dict[int, list[int]],
    amounts: Sequence[int],
    window: int,
) -> int:
    for amount in amounts:
        best, best_days = -1, window + 1
        for j in index.get(_signed(t, amount), ()):
            line = lines[j]
            if used[j] or line.currency != t.currency or not _same_customer(t, line):
                continue
            days = _days_apart(t, line)
            if days < best_days:
                best, best_days = j, days
        if best >= 0:
            return best
    return -1


def find_duplicates(
    txns: Sequence[GatewayTxn],
    lines: Sequence[LedgerEntry],
    hand: Sequence[int],
    used: bytearray,
    matched: Sequence[int],
    rules: MatchRules,
) -> list[Item]:
    """Hand-keyed lines that repeat a payment payledger already posted.

    Same currency and signed amount, date within the window, and the same customer (when the
    gateway does not know the customer, the same day is required instead).
    """
    index = _by_amount(lines, hand, used)
    if not index:
        return []
    items: list[Item] = []
    window = rules.date_window_days
    for i in matched:
        t = txns[i]
        candidates = index.get(t.amount if t.operation is PAYMENT else -t.amount)
        if not candidates:
            continue
        for j in candidates:
            line = lines[j]
            if used[j] or line.currency != t.currency:
                continue
            if t.customer:
                fits = t.customer == line.customer and _days_apart(t, line) <= window
            else:
                fits = line.day == t.created_day
            if fits:
                used[j] = 1
                note = f"keyed by hand as well: repeats PayTrace transaction {t.txn_id}"
                items.append(
                    Item(Discrepancy.DUPLICATE_IN_D365, i, j, True, note, by_reference=False)
                )
                break
    return items
