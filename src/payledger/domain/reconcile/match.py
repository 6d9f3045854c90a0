"""Match PayTrace's settled transactions against D365 payment journal lines and classify.

Lines payledger wrote carry ``PT-<txn>-<PAY|REF|REV>`` and are found by reference (a dict
lookup per transaction). Lines keyed by hand in D365 have no such reference; they are found by
amount, date and customer within the rules' tolerances, and whatever is left on either side is
missing on the other. Each settled transaction of the period ends in exactly one item; other
transactions (pending, voided, settled in another period) only explain lines.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile.compare import Comparer, amount_text
from payledger.domain.reconcile.handkeyed import find_duplicates, match_by_amount
from payledger.domain.reconcile.model import (
    Discrepancy,
    GatewayTxn,
    Item,
    LedgerEntry,
    MatchRules,
    Period,
    TxnState,
)

PREFIX = "PT-"
_SUFFIXES = frozenset(("-PAY", "-REF", "-REV"))
PAYMENT = LedgerOperation.PAYMENT
D = Discrepancy


def txn_of_reference(reference: str) -> str | None:
    """The gateway transaction of one of payledger's references, None for any other text."""
    return reference[3:-4] if _is_ours(reference) else None


@dataclass(slots=True)
class Reconciliation:
    """The inputs and every item concluded from them.

    Transactions plainly matched by reference are kept as two parallel index arrays
    (``matched_txns``, ``matched_lines``), a million of them costing no objects; every other
    item is in ``notable``. ``items`` lists them all.
    """

    txns: Sequence[GatewayTxn]
    lines: Sequence[LedgerEntry]
    notable: list[Item]
    period: Period
    rules: MatchRules
    matched_txns: array[int] = field(default_factory=lambda: array("q"))
    matched_lines: array[int] = field(default_factory=lambda: array("q"))

    @property
    def items(self) -> list[Item]:
        matched = D.MATCHED
        pairs = zip(self.matched_txns, self.matched_lines, strict=True)
        plain = [Item(matched, i, j, False) for i, j in pairs]
        return plain + self.notable

    def counts(self) -> Counter[Discrepancy]:
        counts = Counter(item.kind for item in self.notable)
        counts[D.MATCHED] += len(self.matched_txns)
        return counts

    @property
    def exceptions(self) -> list[Item]:
        return [item for item in self.notable if item.exception]


def reconcile(
    txns: Sequence[GatewayTxn],
    lines: Sequence[LedgerEntry],
    rules: MatchRules,
    period: Period,
) -> Reconciliation:
    """Classify every settled transaction of ``period`` and every line not explained by one."""
    matcher = _Matcher(txns, lines, rules, period)
    matcher.run()
    return Reconciliation(
        txns, lines, matcher.items, period, rules, matcher.matched_txns, matcher.matched_lines
    )


def _is_ours(ref: str) -> bool:
    return ref[:3] == PREFIX and ref[-4:] in _SUFFIXES and len(ref) > 7


class _References:
    """Payledger's lines by reference; the rest are lines keyed by hand.

    One pass over the lines: at a million, every extra pass over scattered strings costs more
    than the Python work it saves (memory latency dominates).
    """

    def __init__(self, lines: Sequence[LedgerEntry]) -> None:
        self.first: dict[str, int] = {}
        self.more: dict[str, list[int]] = {}
        self.reversed: set[str] = set()
        self.by_hand: list[int] = []
        first, more, by_hand, suffixes = self.first, self.more, self.by_hand, _SUFFIXES
        for j, line in enumerate(lines):
            ref = line[1]
            if ref[:3] == PREFIX and ref[-4:] in suffixes and len(ref) > 7:
                k = first.setdefault(ref, j)
                if k != j:
                    more.setdefault(ref, [k]).append(j)
                if ref[-4:] == "-REV":
                    self.reversed.add(ref[3:-4])
            else:
                by_hand.append(j)

    def of(self, ref: str) -> list[int]:
        """Every line carrying ``ref`` (none, one, or duplicates)."""
        more = self.more.get(ref)
        if more is not None:
            return more
        j = self.first.get(ref, -1)
        return [j] if j >= 0 else []


class _Matcher:
    def __init__(
        self,
        txns: Sequence[GatewayTxn],
        lines: Sequence[LedgerEntry],
        rules: MatchRules,
        period: Period,
    ) -> None:
        self.txns, self.lines, self.rules, self.period = txns, lines, rules, period
        self.refs = _References(lines)
        self.used = bytearray(len(lines))
        self.items: list[Item] = []
        self.matched_txns: array[int] = array("q")
        self.matched_lines: array[int] = array("q")
        self.unmatched: list[int] = []
        self.maybe_repeated: list[int] = []
        """Transactions with a line whose amount a hand-keyed line also has."""

    def run(self) -> None:
        self._by_reference()
        hand, used, rules = self.refs.by_hand, self.used, self.rules
        found, missing = match_by_amount(self.txns, self.lines, hand, used, self.unmatched, rules)
        self.items += found
        suspects = self.maybe_repeated + [item.txn for item in found]
        self.items += find_duplicates(self.txns, self.lines, hand, used, suspects, rules)
        for i in missing:
            t = self.txns[i]
            note = f"no D365 line for {amount_text(t.amount, t.currency)} {t.currency}"
            self.items.append(Item(D.MISSING_IN_D365, i, -1, True, note))
        self._lines_left()

    def _add(self, kind: Discrepancy, i: int, involved: list[int], note: str) -> None:
        for j in involved:
            self.used[j] = 1
        self.items.append(Item(kind, i, involved[0], True, note, tuple(involved[1:])))

    def _by_reference(self) -> None:
        first, more, reversed_ids = self.refs.first, self.refs.more, self.refs.reversed
        items, used, lines = self.items, self.used, self.lines
        hand_amounts = {lines[j].amount for j in self.refs.by_hand}
        compare = Comparer(self.rules)
        normal = self.rules.settlement_days
        matched_txns, matched_lines = self.matched_txns, self.matched_lines
        repeated = self.maybe_repeated
        for i, t in enumerate(self.txns):
            txn_id, operation, _, amount, currency, _, settled_day, _, _, _, in_period = t
            if not in_period:
                self._explain(i, t)
                continue
            if operation is PAYMENT:
                ref, signed = f"PT-{txn_id}-PAY", amount
            else:
                ref, signed = f"PT-{txn_id}-REF", -amount
            j = first.get(ref, -1)
            if j >= 0 and ref not in more and txn_id not in reversed_ids:
                used[j] = 1
                if signed in hand_amounts:
                    repeated.append(i)
                line = lines[j]
                if (
                    line[2] == signed  # amount, currency, day: by position, on the hot path
                    and line[3] == currency
                    and 0 <= settled_day - line[4] <= normal
                ):
                    matched_txns.append(i)
                    matched_lines.append(j)
                else:
                    items.append(compare.item(i, t, j, line))
            elif txn_id in reversed_ids:
                rev = f"PT-{t.txn_id}-REV"
                note = f"settled in PayTrace, reversed (voided) in D365 by {rev}"
                self._add(D.STATUS_MISMATCH, i, self.refs.of(ref) + self.refs.of(rev), note)
            elif j < 0:
                self._without_line(i, t)
            else:
                self._add(D.DUPLICATE_IN_D365, i, more[ref], f"{len(more[ref])} lines carry {ref}")
                if signed in hand_amounts:
                    repeated.append(i)

    def _without_line(self, i: int, t: GatewayTxn) -> None:
        other = self.refs.of(f"PT-{t.txn_id}-{'REF' if t.operation is PAYMENT else 'PAY'}")
        if not other:
            self.unmatched.append(i)
        elif t.operation is PAYMENT:
            self._add(D.STATUS_MISMATCH, i, other, "paid in PayTrace, posted as a refund in D365")
        else:
            note = "refunded in PayTrace, posted as a payment in D365"
            self._add(D.STATUS_MISMATCH, i, other, note)

    def _explain(self, i: int, t: GatewayTxn) -> None:
        """Lines of transactions outside the period: voids, pending ones, other batches."""
        ref = f"PT-{t.txn_id}-{'PAY' if t.operation is PAYMENT else 'REF'}"
        involved = self.refs.of(ref)
        if t.state is TxnState.VOIDED:
            self._voided(i, t, involved)
            return
        if not involved:
            return
        for j in involved:
            self.used[j] = 1
        line, j = self.lines[involved[0]], involved[0]
        if t.state is TxnState.PENDING:
            days = self.period.last_day - line.day
            note = f"posted in D365, not settled in PayTrace after {days} days"
        elif t.settled_day > self.period.last_day:
            days = t.settled_day - line.day
            note = f"settled in a later batch ({t.batch}), {days} days after its ledger date"
        else:
            return  # settled before the period: reconciled by an earlier run
        if days > self.rules.settlement_days:
            exception = days > self.rules.lag_days
            self.items.append(Item(D.TIMING_DIFFERENCE, i, j, exception, note))

    def _voided(self, i: int, t: GatewayTxn, involved: list[int]) -> None:
        rev = f"PT-{t.txn_id}-REV"
        reversal = self.refs.of(rev) if t.txn_id in self.refs.reversed else []
        if involved and reversal:
            for j in involved + reversal:
                self.used[j] = 1  # paid, then reversed: D365 agrees with the void
        elif involved:
            state = "paid" if t.operation is PAYMENT else "refunded"
            self._add(D.STATUS_MISMATCH, i, involved, f"voided in PayTrace, still {state} in D365")
        elif reversal:
            note = f"voided in PayTrace; D365 has the reversal {rev} but not the line it reverses"
            self._add(D.STATUS_MISMATCH, i, reversal, note)

    def _lines_left(self) -> None:
        """Lines nothing explained are missing in PayTrace, when dated in the period (lines
        dated around it belong to the runs of the neighbouring periods)."""
        used, lines = self.used, self.lines
        first_day, last_day = self.period.first_day, self.period.last_day
        unused = []
        j = used.find(0)
        while j >= 0:
            unused.append(j)
            j = used.find(0, j + 1)
        orphans = [j for j in unused if _is_ours(lines[j].reference)]
        orphan_ids = {txn_of_reference(lines[j].reference) for j in orphans}
        known = {t.txn_id for t in self.txns if t.txn_id in orphan_ids} if orphan_ids else set()
        for j in unused:
            line = lines[j]
            if not first_day <= line.day <= last_day:
                continue
            txn_id = txn_of_reference(line.reference)
            if txn_id is None:
                note = "keyed by hand; no PayTrace transaction with its amount, date and customer"
                item = Item(D.MISSING_IN_PAYTRACE, -1, j, True, note, by_reference=False)
                self.items.append(item)
            elif txn_id not in known:
                note = f"PayTrace has no transaction {txn_id}"
                self.items.append(Item(D.MISSING_IN_PAYTRACE, -1, j, True, note))
