"""Bring a past period in: each day's payments from the gateway's exports into the inbox.

The events get the same keys as the poller's (and the webhook receiver's), so a payment the
poller already stored is recognised as known, and running a backfill twice stores nothing
twice: the posting that follows from an event happens once, whoever brought it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from payledger.domain.clock import Clock
from payledger.domain.errors import DomainError
from payledger.flows.ports import DailyPaymentSource, PaymentEventStore


@dataclass(frozen=True)
class Backfill:
    """The gateway-local days ``first``..``last`` (inclusive)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise DomainError(f"backfill: --from {self.first} is after --to {self.last}")

    @property
    def days(self) -> list[date]:
        count = (self.last - self.first).days + 1
        return [self.first + timedelta(days=n) for n in range(count)]


@dataclass(frozen=True)
class DayBackfilled:
    day: date
    fetched: int
    new: int
    known: int
    """Already in the inbox (from the poller, a webhook or an earlier backfill)."""
    event_ids: tuple[str, ...]


async def backfill_day(
    day: date, *, source: DailyPaymentSource, store: PaymentEventStore, clock: Clock
) -> DayBackfilled:
    """Store one day's payments (duplicates ignored), in one transaction."""
    observed = await source.observed_on(day)
    recorded = await store.record(
        source.name, observed, watermark=(f"backfill:{source.name}", clock.now())
    )
    return DayBackfilled(
        day=day,
        fetched=len(observed),
        new=recorded.new,
        known=recorded.duplicates,
        event_ids=tuple(event.event_id for event in observed),
    )
