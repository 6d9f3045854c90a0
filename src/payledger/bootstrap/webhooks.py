"""Wiring of signed PayTrace webhooks: where their hints are recorded, and the job that
fetches each hinted payment from PayTrace."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from payledger.bootstrap.container import Container
from payledger.domain.errors import DomainError
from payledger.domain.events import PaymentObserved
from payledger.engine.jobs import Handler, Job
from payledger.flows.ports import PaymentLookup
from payledger.flows.receive_hint import FetchHinted, fetch_hinted
from payledger.stores.deliveries import SqlDeliveryLog
from payledger.stores.payment_events import SqlHintedPayments

log = structlog.get_logger(__name__)

FETCH_HINTED = "paytrace.fetch_hinted"
"""The job kind that fetches the payment a stored webhook hint names."""
HINT_SOURCE = "paytrace-webhook"
"""The inbox source of webhook hints (the payments fetched for them are ``paytrace`` events,
like the poller's)."""


def paytrace_deliveries(container: Container) -> SqlDeliveryLog:
    """Signed deliveries of ``POST /webhooks/paytrace``, remembered for the replay window;
    their hints go to the inbox with a ``paytrace.fetch_hinted`` job each."""
    keep = timedelta(hours=container.settings.webhooks.replay_window_hours)
    return SqlDeliveryLog(
        container.inbox, scope="paytrace", keep=keep, source=HINT_SOURCE, job_kind=FETCH_HINTED
    )


class LimitedLookup:
    """A ``PaymentLookup`` with at most as many calls in flight as ``slots`` allows: a backlog
    of hints queues here rather than as a crowd of simultaneous PayTrace requests (which costs
    the HTTP client far more CPU per request than a few at a time)."""

    def __init__(self, inner: PaymentLookup, slots: asyncio.Semaphore) -> None:
        self.inner = inner
        self.name = inner.name
        self.slots = slots

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        async with self.slots:
            return await self.inner.payment_by_id(transaction_id)


def fetch_hinted_payment(container: Container) -> Handler:
    """Fetch a stored hint's transaction from PayTrace into the inbox."""
    settings = container.settings.webhooks
    slots = asyncio.Semaphore(settings.refetch_concurrency)
    hints = SqlHintedPayments(container.inbox)

    async def fetch(job: Job) -> None:
        hint_id = int(job.payload["inbox_id"])
        async with container.database.transaction() as conn:
            hint = await container.inbox.get(conn, hint_id)
        if hint is None:
            raise DomainError(f"inbox event {hint_id} does not exist")
        if hint["status"] == "processed":
            return  # fetched by an attempt whose outcome was not settled
        command = FetchHinted(
            hint_id=hint_id,
            transaction_id=str(hint["payload"]["transaction_id"]),
            timeout_s=settings.refetch_timeout_seconds,
        )
        lookup = LimitedLookup(await container.payment_lookup(), slots)
        fetched = await fetch_hinted(command, lookup=lookup, hints=hints)
        log.info(
            "webhook.hint_fetched",
            hint=hint["external_id"],
            event_id=fetched.event_id,
            new=fetched.new,
        )

    return fetch
