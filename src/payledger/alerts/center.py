"""The alert centre: anything may report an occurrence; one dispatcher sends what is due.

``notify`` only writes (the occurrence, and a dispatch job when it is due), so it is safe
to call from a request, a job or a CLI command in any process. A dispatcher claims the due
alerts it sends, so two processes never send the same occurrences.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.alerts.model import Alert, AlertDeliveryError, AlertSink, Severity
from payledger.alerts.store import AlertStore, Occurrence
from payledger.domain.card_data import redact_card_numbers
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue

log = structlog.get_logger(__name__)

DISPATCH_ALERTS = "alerts.dispatch"
"""The job kind that sends the alerts that are due."""
RETRY_UNDELIVERED = timedelta(minutes=1)
SENDING_LEASE = timedelta(minutes=2)
"""A dispatcher holds the alerts it sends this long; if it dies they are sent again."""

SinkFactory = Callable[[], Awaitable[Sequence[AlertSink]]]


@dataclass
class Dispatched:
    sent: list[Alert] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Sink failures, by sink name and reason (never a URL or password)."""


class AlertCenter:
    """Records occurrences (deduplicated per key) and sends due alerts to every sink."""

    def __init__(self, queue: Queue, store: AlertStore, sinks: SinkFactory) -> None:
        self.queue = queue
        self.store = store
        self._sinks = sinks

    async def notify(
        self,
        key: str,
        title: str,
        text: str,
        *,
        severity: Severity | str = Severity.WARNING,
        facts: Mapping[str, object] | None = None,
        count: int = 1,
    ) -> None:
        """Report ``count`` occurrences of the alert ``key``; it is sent once, with the count.

        Example: ``await alerts.notify("recon:2026-03-24", "Reconciliation found 12
        exceptions", "...", facts={"missing in D365": 3})``.
        """
        async with self.queue.database.transaction() as conn:
            await self.record(conn, occurrence(key, title, text, severity, facts, count))

    async def clear(self, key: str) -> None:
        """What ``key`` warned of is over: occurrences not sent yet are dropped."""
        async with self.queue.database.transaction() as conn:
            await self.store.clear(conn, key[:120])

    async def record(self, conn: AsyncConnection, event: Occurrence) -> datetime:
        """Count ``event`` in the caller's transaction and make sure a dispatch is due."""
        due = await self.store.record(conn, event, self.queue.clock.now())
        await self.queue.enqueue(conn, _dispatch_at(due))
        return due

    async def dispatch(self) -> Dispatched:
        """Send every due alert to every sink; an alert no sink took stays pending."""
        result = Dispatched()
        due = await self.store.claim_due(self.queue.clock.now(), SENDING_LEASE)
        if not due:
            return result
        sinks = await self._sinks()
        for alert in due:
            log.warning(
                "alert", key=alert.key, title=alert.title, count=alert.count, text=alert.text
            )
            delivered = not sinks
            for sink in sinks:
                try:
                    await sink.send(alert)
                    delivered = True
                except AlertDeliveryError as exc:
                    result.failed.append(str(exc))
                    log.warning("alert.undelivered", key=alert.key, sink=sink.name, error=str(exc))
            now = self.queue.clock.now()
            if delivered:
                await self.store.mark_sent(alert, now)
                result.sent.append(alert)
            else:
                await self.store.postpone(alert, now + RETRY_UNDELIVERED)
                async with self.queue.database.transaction() as conn:
                    await self.queue.enqueue(conn, _dispatch_at(now + RETRY_UNDELIVERED))
        return result


def occurrence(
    key: str,
    title: str,
    text: str,
    severity: Severity | str = Severity.WARNING,
    facts: Mapping[str, object] | None = None,
    count: int = 1,
) -> Occurrence:
    """An occurrence with card numbers masked everywhere (alerts leave payledger)."""
    return Occurrence(
        key=key[:120],
        title=redact_card_numbers(title),
        text=redact_card_numbers(text),
        severity=Severity(severity),
        facts={name: redact_card_numbers(str(value)) for name, value in (facts or {}).items()},
        count=count,
    )


def _dispatch_at(when: datetime) -> NewJob:
    return NewJob(
        DISPATCH_ALERTS,
        dedupe_key=f"{DISPATCH_ALERTS}:{when.isoformat()}",
        run_at=when,
    )
