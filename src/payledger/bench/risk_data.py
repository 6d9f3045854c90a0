"""A labelled merchant history for ``payledger bench risk``: normal traffic and five attacks.

Normal traffic is many customers over months, each with their own rate, typical amount
(a few dollars to thousands), one or two cards, a billing ZIP shared with neighbours, one to
three IPs (some behind a shared office IP), ordinary declines and retries, refunds (some
customers return a lot, a few refunds come late), invoices paid in two instalments, big
orders now and then, first orders of large new accounts, and the AVS/CSC answers real cards
give (a few per cent "No Match" on honest payments). None of it is labelled.

Injected after the warm-up, each event labelled with its pattern: ``card_testing`` (bursts of
small attempts on many new cards from a few IPs, most declined), ``refund_abuse`` (refunds
larger than the sale, to another card, months late, or with no sale), ``amount_outlier`` (an
established customer's payment 8-40x their usual), ``avs_mismatch_burst`` (several attempts
on one account within minutes with the address or card code wrong) and ``duplicate_charge``
(an invoice charged the same amount again within hours).
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from payledger.domain.money import Money
from payledger.domain.risk import RiskSubject, SubjectKind

PATTERNS = (
    "card_testing",
    "refund_abuse",
    "amount_outlier",
    "avs_mismatch_burst",
    "duplicate_charge",
)
SALE, DECLINE, REFUND = SubjectKind.SALE, SubjectKind.DECLINE, SubjectKind.REFUND
START = datetime(2026, 1, 1, tzinfo=UTC)
AVS = (
    ("Full Exact Match", 0.855),
    ("Zip Match Only", 0.04),
    ("Address Match Only", 0.03),
    ("No Match", 0.025),
    ("Address Unavailable", 0.02),
    ("Issuer System Unavailable", 0.01),
    ("Non-US Issuer does not participate", 0.005),
    ("", 0.015),
)
CSC = (("Match", 0.9), ("", 0.06), ("Not Processed", 0.02), ("Not Present", 0.012))
CSC_NO_MATCH = 0.008


@dataclass
class Dataset:
    """Events oldest first, their labels ("" for normal) and where the warm-up ends."""

    events: list[RiskSubject] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    warmup_end: datetime = START

    def add(self, event: RiskSubject, label: str = "") -> None:
        self.events.append(event)
        self.labels.append(label)

    def sort(self) -> None:
        order = sorted(range(len(self.events)), key=lambda i: self.events[i].occurred_at)
        self.events = [self.events[i] for i in order]
        self.labels = [self.labels[i] for i in order]


@dataclass
class _Customer:
    id: str
    cards: list[str]
    zip: str
    ips: list[str]
    typical: float
    rate: float
    joined: float
    refund_rate: float
    stale_address: bool = False
    """The card's billing address on file is old: AVS mostly says "No Match"."""


def _table(table: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    return [t for t, _ in table], list(itertools.accumulate(w for _, w in table))


AVS_TABLE, CSC_TABLE = _table(AVS), _table(CSC)


def _pick(rng: random.Random, table: tuple[list[str], list[float]]) -> str:
    return rng.choices(table[0], cum_weights=table[1])[0]


def _money(value: float) -> Money:
    return Money(Decimal(f"{max(value, 0.01):.2f}"), "USD")


class _Generator:
    def __init__(self, seed: int, customers: int, days: int, warmup_days: int) -> None:
        self.rng = random.Random(seed)
        self.seed, self.days, self.warmup = seed, days, warmup_days
        self.data = Dataset(warmup_end=START + timedelta(days=warmup_days))
        self.serial = 0
        zips = [f"{self.rng.randint(10000, 99999)}" for _ in range(max(customers // 4, 5))]
        offices = [self._ip() for _ in range(max(customers // 75, 2))]
        self.customers = [self._customer(i, zips, offices) for i in range(customers)]
        self.sales: list[RiskSubject] = []

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.seed}-{self.serial}"

    def _ip(self) -> str:
        r = self.rng
        return f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def _customer(self, i: int, zips: list[str], offices: list[str]) -> _Customer:
        r = self.rng
        small = r.random() < 0.1
        typical = r.uniform(3, 9) if small else min(math.exp(r.gauss(math.log(120), 1.0)), 15000)
        ips = [r.choice(offices)] if r.random() < 0.1 else [self._ip()]
        ips += [self._ip() for _ in range(r.choice((0, 0, 1, 2)))]
        return _Customer(
            id=f"C{self.seed}-{i}",
            cards=[self._id("K") for _ in range(2 if r.random() < 0.15 else 1)],
            zip=r.choice(zips),
            ips=ips,
            typical=typical,
            rate=min(max(math.exp(r.gauss(math.log(0.15), 0.9)), 0.01), 3.0),
            joined=0.0 if r.random() < 0.5 else r.uniform(0, self.days * 0.8),
            refund_rate=0.25 if r.random() < 0.02 else 0.04,
            stale_address=r.random() < 0.03,
        )

    def _event(
        self, c: _Customer, kind: SubjectKind, at: datetime, amount: float, **kw: Any
    ) -> RiskSubject:
        r = self.rng
        event = RiskSubject(
            self._id("T"),
            kind,
            _money(amount),
            at,
            customer_id=c.id,
            card_token=c.cards[0] if len(c.cards) == 1 or r.random() < 0.7 else c.cards[1],
            billing_zip=c.zip,
            ip_address=r.choice(c.ips),
            avs_result="No Match" if c.stale_address and r.random() < 0.8 else _pick(r, AVS_TABLE),
            csc_result="No Match" if r.random() < CSC_NO_MATCH else _pick(r, CSC_TABLE),
        )
        return replace(event, **kw) if kw else event

    def normal(self) -> None:
        for c in self.customers:
            day = c.joined
            while (day := day + self.rng.expovariate(c.rate)) < self.days:
                self._purchase(c, START + timedelta(days=day, hours=self.rng.gauss(0, 3)))

    def _purchase(self, c: _Customer, at: datetime) -> None:
        r = self.rng
        amount = (
            c.typical * math.exp(r.gauss(0, 0.35)) * (r.uniform(2, 4) if r.random() < 0.02 else 1)
        )
        invoice = self._id("INV-")
        if r.random() < 0.04:
            self.data.add(self._event(c, DECLINE, at, amount, invoice_ref=invoice))
            if r.random() > 0.6:
                return
            at += timedelta(minutes=r.uniform(1, 20))
        if r.random() < 0.03:  # an invoice paid in two instalments of different amounts
            first = round(amount * r.uniform(0.3, 0.7), 2)
            self._sale(c, at, first, invoice)
            at += timedelta(days=r.uniform(1, 20))
            amount -= first
        self._sale(c, at, amount, invoice)

    def _sale(self, c: _Customer, at: datetime, amount: float, invoice: str) -> None:
        sale = self._event(c, SALE, at, amount, invoice_ref=invoice)
        self.data.add(sale)
        self.sales.append(sale)
        r = self.rng
        if r.random() < c.refund_rate:
            late = r.random() < 0.01
            days = r.uniform(61, 100) if late else r.choice((r.uniform(0.1, 30), r.uniform(1, 55)))
            share = 1.0 if r.random() < 0.7 else r.uniform(0.1, 0.9)
            self.data.add(
                self._refund(sale, at + timedelta(days=days), float(sale.amount.amount) * share)
            )

    def _refund(
        self, sale: RiskSubject, at: datetime, amount: float, card: str = ""
    ) -> RiskSubject:
        return replace(
            sale,
            transaction_id=self._id("T"),
            kind=REFUND,
            amount=_money(amount),
            occurred_at=at,
            card_token=card or sale.card_token,
            original_transaction_id=sale.transaction_id,
            original_card_token=sale.card_token,
            original_amount=sale.amount,
            original_occurred_at=sale.occurred_at,
            avs_result="",
            csc_result="",
        )

    def _before(self, at: datetime) -> int:
        return bisect.bisect_left(self.sales, at, key=lambda s: s.occurred_at)

    def _when(self) -> datetime:
        return START + timedelta(days=self.rng.uniform(self.warmup, self.days))

    def card_testing(self) -> None:
        r = self.rng
        ips = [self._ip() for _ in range(r.randint(1, 3))]
        at = self._when()
        for _ in range(r.randint(15, 50)):
            at += timedelta(seconds=r.uniform(2, 25))
            kind = DECLINE if r.random() < 0.8 else SALE
            event = RiskSubject(
                self._id("T"),
                kind,
                _money(r.choice((0.5, 1.0, 1.0, 1.99, 2.5, 3.0))),
                at,
                customer_id="" if r.random() < 0.6 else self._id("G"),
                card_token=self._id("K"),
                billing_zip=f"{r.randint(10000, 99999)}",
                ip_address=r.choice(ips),
                avs_result=r.choice(("No Match", "Zip Match Only", "Full Exact Match")),
                csc_result=r.choice(("No Match", "Match", "")),
            )
            self.data.add(event, "card_testing")

    def refund_abuse(self) -> None:
        r = self.rng
        at = self._when()
        old = self.sales[: self._before(at)]
        sale = r.choice(old) if old else None
        variant = r.choice(("larger", "other_card", "late", "no_sale"))
        if sale is None or variant == "no_sale":
            c = _Customer(self._id("G"), [self._id("K")], "00000", [self._ip()], 50, 0, 0, 0)
            event = self._event(c, REFUND, at, r.uniform(80, 900), avs_result="", csc_result="")
        elif variant == "larger":
            event = self._refund(sale, at, float(sale.amount.amount) * r.uniform(1.3, 3))
        elif variant == "other_card":
            amount = float(sale.amount.amount) * r.uniform(0.5, 1)
            event = self._refund(sale, at, amount, card=self._id("K"))
        else:
            late = self.sales[: self._before(at - timedelta(days=70))]
            sale = r.choice(late) if late else sale
            event = self._refund(sale, at, float(sale.amount.amount))
        self.data.add(event, "refund_abuse")

    def _established(self, at: datetime) -> _Customer:
        ready = [c for c in self.customers if c.joined * 1.5 + 20 / c.rate < (at - START).days]
        return self.rng.choice(ready or self.customers)

    def amount_outlier(self) -> None:
        r = self.rng
        at = self._when()
        c = self._established(at)
        extra = {"card_token": self._id("K")} if r.random() < 0.5 else {}
        if r.random() < 0.5:
            extra["ip_address"] = self._ip()
        event = self._event(
            c, SALE, at, c.typical * r.uniform(8, 40), invoice_ref=self._id("INV-"), **extra
        )
        self.data.add(event, "amount_outlier")

    def avs_burst(self) -> None:
        r = self.rng
        at = self._when()
        c = self._established(at)
        ip, card = self._ip(), self._id("K")
        for _ in range(r.randint(3, 8)):
            at += timedelta(minutes=r.uniform(0.5, 4))
            wrong = ("No Match", "Match") if r.random() < 0.7 else ("Zip Match Only", "No Match")
            kind = DECLINE if r.random() < 0.5 else SALE
            amount = c.typical * r.uniform(0.5, 2)
            event = self._event(
                c,
                kind,
                at,
                amount,
                ip_address=ip,
                card_token=card,
                avs_result=wrong[0],
                csc_result=wrong[1],
                invoice_ref=self._id("INV-"),
            )
            self.data.add(event, "avs_mismatch_burst")

    def duplicate(self) -> None:
        r = self.rng
        at = self._when()
        done = self.sales[self._before(at - timedelta(hours=6)) : self._before(at)]
        sale = r.choice(done) if done else r.choice(self.sales)
        twin = replace(
            sale,
            transaction_id=self._id("T"),
            occurred_at=sale.occurred_at + timedelta(seconds=r.uniform(20, 36 * 3600)),
        )
        self.data.add(twin, "duplicate_charge")


def generate(
    seed: int, customers: int = 1500, days: int = 120, warmup_days: int = 30, attacks: float = 1.0
) -> Dataset:
    """A merchant's history with injected attacks (``attacks`` scales how many)."""
    g = _Generator(seed, customers, days, warmup_days)
    g.normal()
    g.data.sort()
    g.sales.sort(key=lambda s: s.occurred_at)
    scale = customers * attacks
    for make, per_customer in (
        (g.card_testing, 1 / 400),
        (g.refund_abuse, 1 / 25),
        (g.amount_outlier, 1 / 25),
        (g.avs_burst, 1 / 60),
        (g.duplicate, 1 / 25),
    ):
        for _ in range(max(1, round(scale * per_customer))):
            make()
    g.data.sort()
    return g.data
