"""Each event's RiskHistory, gathered in memory the way docs/risk.md says the store gathers it.

The bench scores a generated history in time order; this plays the store's part: for every
event, the earlier events of its customer, card, ZIP and IP within the rules' lookback, the
merchant's recent declines, the earlier approved charges of its invoice, and its customer's
profile over all earlier events.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from payledger.domain.money import Money
from payledger.domain.risk import CustomerProfile, RiskHistory, RiskSubject, SubjectKind
from payledger.domain.risk_rules import CHARGES


class _Profile:
    def __init__(self) -> None:
        self.payments, self.refunds = 0, 0
        self.total, self.largest = Decimal(0), Decimal(0)
        self.first_seen: datetime | None = None
        self.currency = "USD"

    def snapshot(self) -> CustomerProfile:
        if not self.payments:
            return CustomerProfile(first_seen=self.first_seen, refunds=self.refunds)
        c = self.currency
        return CustomerProfile(
            payments=self.payments,
            total=Money(self.total, c),
            largest=Money(self.largest, c),
            mean=Money(self.total / self.payments, c),
            first_seen=self.first_seen,
            refunds=self.refunds,
        )

    def add(self, e: RiskSubject) -> None:
        self.first_seen = self.first_seen or e.occurred_at
        if e.kind in CHARGES:
            self.payments += 1
            self.total += e.amount.amount
            self.largest = max(self.largest, e.amount.amount)
            self.currency = e.amount.currency
        elif e.kind is SubjectKind.REFUND:
            self.refunds += 1


class MemoryHistory:
    """Earlier events by customer, card, ZIP, IP and invoice, and each customer's profile."""

    def __init__(self, lookback: timedelta) -> None:
        self.lookback = lookback
        self._keyed: dict[tuple[str, str], deque[RiskSubject]] = defaultdict(deque)
        self._declines: deque[RiskSubject] = deque()
        self._invoices: dict[str, list[RiskSubject]] = defaultdict(list)
        self._profiles: dict[str, _Profile] = {}

    def _recent(self, name: str, key: str, horizon: datetime) -> tuple[RiskSubject, ...]:
        found = self._keyed.get((name, key)) if key else None
        if not found:
            return ()
        while found and found[0].occurred_at <= horizon:
            found.popleft()
        return tuple(reversed(found))

    def history_for(self, event: RiskSubject) -> RiskHistory:
        """What the store would hand the scorer for ``event`` (recorded events only)."""
        horizon = event.occurred_at - self.lookback
        while self._declines and self._declines[0].occurred_at <= horizon:
            self._declines.popleft()
        profile = self._profiles.get(event.customer_id) if event.customer_id else None
        invoice = self._invoices.get(event.invoice_ref, []) if event.invoice_ref else []
        return RiskHistory(
            by_customer=self._recent("customer", event.customer_id, horizon),
            by_card=self._recent("card", event.card_token, horizon),
            by_zip=self._recent("zip", event.billing_zip, horizon),
            by_ip=self._recent("ip", event.ip_address, horizon),
            declines=tuple(reversed(self._declines)),
            same_invoice=tuple(reversed(invoice)),
            customer=profile.snapshot() if profile else CustomerProfile(),
        )

    def record(self, e: RiskSubject) -> None:
        """Remember ``e`` for the events after it."""
        for name, key in (
            ("customer", e.customer_id),
            ("card", e.card_token),
            ("zip", e.billing_zip),
            ("ip", e.ip_address),
        ):
            if key:
                self._keyed[(name, key)].append(e)
        if e.kind is SubjectKind.DECLINE:
            self._declines.append(e)
        if e.invoice_ref and e.kind in CHARGES:
            self._invoices[e.invoice_ref].append(e)
        if e.customer_id:
            self._profiles.setdefault(e.customer_id, _Profile()).add(e)


def histories(
    events: Iterable[RiskSubject], lookback: timedelta
) -> Iterator[tuple[RiskSubject, RiskHistory]]:
    """Every event (oldest first) with its history of strictly earlier events."""
    memory = MemoryHistory(lookback)
    pending: list[RiskSubject] = []
    for event in events:
        if pending and pending[0].occurred_at < event.occurred_at:
            for earlier in pending:
                memory.record(earlier)
            pending = []
        yield event, memory.history_for(event)
        pending.append(event)
