"""Poll the gateway for payments: the primary event source, since PayTrace has no webhooks.

Each poll asks for everything since the last complete poll, less an overlap that absorbs
clock skew and late-arriving records, and stores what it saw through the deduplicating inbox.
The watermark moves in the same transaction as the events, so a crash re-polls the same
window: nothing is missed, and nothing is stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from payledger.domain.clock import Clock
from payledger.domain.events import Recorded
from payledger.flows.ports import PaymentEventStore, PaymentSource


@dataclass(frozen=True)
class PollPayments:
    overlap: timedelta = timedelta(minutes=30)
    """How far before the watermark each poll starts again."""
    first_lookback: timedelta = timedelta(days=1)
    """How far back the very first poll looks."""


@dataclass(frozen=True)
class PollResult:
    seen: int
    new: int
    duplicates: int


async def poll_payments(
    cmd: PollPayments, *, source: PaymentSource, store: PaymentEventStore, clock: Clock
) -> PollResult:
    started = clock.now()
    watermark_name = f"poll:{source.name}"
    previous = await store.watermark(watermark_name)
    since = (previous - cmd.overlap) if previous else started - cmd.first_lookback
    observed = await source.payments_changed(since, started)
    recorded: Recorded = await store.record(
        source.name, observed, watermark=(watermark_name, started)
    )
    return PollResult(seen=len(observed), new=recorded.new, duplicates=recorded.duplicates)
