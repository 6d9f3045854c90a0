"""Synthetic settlement data for ``payledger bench reconcile``, with seeded discrepancies.

A period of settled batches, a D365 line for each transaction as payledger would post it, a
few lines keyed by hand, voided and pending transactions, and then a share of discrepancies of
every class, each recorded in ``truth`` under the key its item will carry: ``("txn", id)`` for
items about a transaction, ``("line", id)`` for a line PayTrace knows nothing about or a
hand-keyed duplicate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile import (
    Discrepancy,
    FeeRule,
    FeeSchedule,
    GatewayTxn,
    LedgerEntry,
    MatchRules,
    Period,
    TxnState,
)

D = Discrepancy
PAYMENT, REFUND = LedgerOperation.PAYMENT, LedgerOperation.REFUND
CARDS = ("VISA", "VISA", "VISA", "MASTERCARD", "MASTERCARD", "AMEX", "DISCOVER")
FEES = FeeSchedule(
    {
        "VISA": FeeRule(Decimal("2.9"), Decimal("0.30")),
        "MASTERCARD": FeeRule(Decimal("2.7"), Decimal("0.30")),
        "AMEX": FeeRule(Decimal("3.5"), Decimal("0.15")),
        "*": FeeRule(Decimal("2.9"), Decimal("0.30")),
    }
)
RULES = MatchRules(date_window_days=3, settlement_days=1, lag_days=3, fees=FEES)
_NOT_FROM_MATCHING = (D.MATCHED, D.POSTED_INVOICE_OPEN, D.JOURNAL_UNPOSTED_OVERDUE)
"""Matched, and the posting classes (they come from the ERP's journals and invoices)."""
SEEDED_CLASSES = tuple(kind for kind in Discrepancy if kind not in _NOT_FROM_MATCHING)

Key = tuple[str, str]


@dataclass
class Dataset:
    txns: list[GatewayTxn] = field(default_factory=list)
    lines: list[LedgerEntry] = field(default_factory=list)
    truth: dict[Key, Discrepancy] = field(default_factory=dict)
    period: Period = field(default_factory=lambda: Period(0, 0))
    in_period: int = 0
    late: set[Key] = field(default_factory=set)
    """Timing differences seeded beyond the lag (errors); those within it are not errors."""

    @property
    def exceptions(self) -> int:
        """How many seeded items are errors."""
        return sum(1 for k, kind in self.truth.items() if kind is not D.TIMING_DIFFERENCE) + len(
            self.late
        )


class _Builder:
    def __init__(self, n: int, seed: int, days: int) -> None:
        self.rng = random.Random(seed)
        first = date(2026, 3, 1).toordinal()
        self.days = list(range(first - 10, first + days + 10))  # shared int objects
        self.first, self.last = first, first + days - 1
        self.customers = [f"C{c:06d}" for c in range(max(n // 50, 10))]
        self.batches = {d: str(413 + d - first) for d in self.days}
        self.data = Dataset(period=Period(self.first, self.last))
        self.next_txn = 100_000_000
        self.next_line = 0

    def day(self, ordinal: int) -> int:
        return self.days[ordinal - self.days[0]]

    def txn(self, *, state: TxnState = TxnState.SETTLED, settled: int = 0) -> GatewayTxn:
        rng = self.rng
        self.next_txn += 1
        operation = REFUND if rng.random() < 0.1 else PAYMENT
        in_period = state is TxnState.SETTLED and self.first <= settled <= self.last
        created = self.day(
            (settled or self.last) - (rng.random() < 0.3) if state is not TxnState.VOIDED
            else self.last
        )  # fmt: skip
        return GatewayTxn(
            txn_id=str(self.next_txn),
            operation=operation,
            state=state,
            amount=rng.randint(100, 500_000),
            currency="USD",
            batch=self.batches[settled] if settled else "",
            settled_day=self.day(settled) if settled else 0,
            created_day=created,
            card_type=rng.choice(CARDS),
            customer=rng.choice(self.customers),
            in_period=in_period,
        )

    def line(
        self,
        t: GatewayTxn,
        *,
        reference: str | None = None,
        amount: int | None = None,
        **changes: object,
    ) -> LedgerEntry:
        self.next_line += 1
        code = "PAY" if t.operation is PAYMENT else "REF"
        signed = t.amount if t.operation is PAYMENT else -t.amount
        entry = LedgerEntry(
            line_id=f"J{self.next_line // 1000:05d}/{self.next_line % 1000 + 1}",
            reference=f"PT-{t.txn_id}-{code}" if reference is None else reference,
            amount=signed if amount is None else amount,
            currency="USD",
            day=t.created_day,
            customer=t.customer,
            posted=True,
        )
        return entry._replace(**changes) if changes else entry  # type: ignore[arg-type]


def generate(n: int = 1_000_000, *, rate: float = 0.01, seed: int = 42, days: int = 10) -> Dataset:
    """``n`` settled transactions over ``days`` days with ``rate`` of them (about) seeded as
    discrepancies, spread evenly over every class."""
    b = _Builder(n, seed, days)
    data, rng = b.data, b.rng
    per_class = max(int(n * rate / len(SEEDED_CLASSES)), 2)
    seeded = per_class * len(SEEDED_CLASSES)
    plan: list[Discrepancy] = [kind for kind in SEEDED_CLASSES for _ in range(per_class)]
    plan += [D.MATCHED] * (n - seeded)
    rng.shuffle(plan)
    for kind in plan:
        settled = rng.randint(b.first, b.last)
        t = b.txn(settled=settled)
        _seed(b, t, kind)
    data.in_period = sum(1 for t in data.txns if t.in_period)
    _background(b, max(n // 200, 5))
    rng.shuffle(data.lines)
    return data


def _seed(b: _Builder, t: GatewayTxn, kind: Discrepancy) -> None:
    data, rng = b.data, b.rng
    txn_key: Key = ("txn", t.txn_id)
    if kind is D.MISSING_IN_PAYTRACE:
        data.txns.append(t)
        data.lines.append(b.line(t))  # the transaction itself matches; the extra line does not
        day = t.settled_day  # dated in the period: earlier lines belong to earlier runs
        if rng.random() < 0.5:
            ghost = str(900_000_000 + len(data.lines))
            customer = rng.choice(b.customers)
            extra = b.line(t, reference=f"PT-{ghost}-PAY", customer=customer, day=day)
        else:
            where = len(data.lines)
            extra = b.line(t, reference=f"manual {where}", customer=f"M{where}", day=day)
        data.lines.append(extra)
        data.truth[("line", extra.line_id)] = kind
        return
    if kind is D.STATUS_MISMATCH and rng.random() < 0.33:
        voided = b.txn(state=TxnState.VOIDED)
        data.txns += [t, voided]
        data.lines += [b.line(t), b.line(voided)]
        data.truth[("txn", voided.txn_id)] = kind
        return
    data.txns.append(t)
    if kind is D.MATCHED:
        by_hand = rng.random() < 0.005
        data.lines.append(b.line(t, reference=f"deposit slip {t.txn_id}") if by_hand else b.line(t))
        return
    if kind is D.DUPLICATE_IN_D365 and rng.random() < 0.5:
        data.lines.append(b.line(t))
        copy = b.line(t, reference=f"keyed again {t.txn_id}")
        data.lines.append(copy)
        data.truth[("line", copy.line_id)] = kind
        return
    data.truth[txn_key] = kind
    data.lines += _seeded_lines(b, t, kind, txn_key)


def _seeded_lines(b: _Builder, t: GatewayTxn, kind: Discrepancy, key: Key) -> list[LedgerEntry]:
    rng = b.rng
    signed = t.amount if t.operation is PAYMENT else -t.amount
    sign = 1 if signed > 0 else -1
    if kind is D.MISSING_IN_D365:
        return []
    if kind is D.AMOUNT_MISMATCH:
        return [b.line(t, amount=signed + sign * rng.randint(1, 999))]  # more than PayTrace
    if kind is D.CURRENCY_MISMATCH:
        return [b.line(t, currency="CAD")]
    if kind is D.DUPLICATE_IN_D365:
        return [b.line(t), b.line(t)]
    if kind is D.STATUS_MISMATCH:
        if rng.random() < 0.5:
            return [b.line(t, amount=-signed)]  # paid posted as a refund or the reverse
        rev = b.line(t, reference=f"PT-{t.txn_id}-REV", amount=-signed)
        return [b.line(t), rev]
    if kind is D.FEE_DIFFERENCE:
        if t.operation is not PAYMENT:
            b.data.truth[key] = D.AMOUNT_MISMATCH  # refunds carry no fee: a plain difference
            return [b.line(t, amount=signed + sign * 7)]
        fee = FEES.fee(t.card_type, t.amount, t.currency)
        return [b.line(t, amount=signed - fee)]
    if kind is D.TIMING_DIFFERENCE:
        late = rng.random() < 0.5
        if late:
            b.data.late.add(key)
        return [b.line(t, day=b.day(t.settled_day - (6 if late else 3)))]
    raise AssertionError(kind)


def _background(b: _Builder, count: int) -> None:
    """Lines every real period has that are no discrepancy: voids reversed in D365, payments
    pending settlement, and payments of earlier batches posted in the window."""
    data = b.data
    for _ in range(count):
        voided = b.txn(state=TxnState.VOIDED)
        pending = b.txn(state=TxnState.PENDING)
        earlier = b.txn(settled=b.first - 2)
        data.txns += [voided, pending, earlier]
        pay = b.line(voided)
        rev = b.line(voided, reference=f"PT-{voided.txn_id}-REV", amount=-pay.amount)
        data.lines += [pay, rev, b.line(pending, day=b.last), b.line(earlier)]
