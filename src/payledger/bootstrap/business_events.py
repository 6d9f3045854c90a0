"""Wiring of D365 business events: stored ``SalesInvoicePostedBusinessEvent`` rows charge the
invoice (auto-pay); one whose job gives up is parked with an alert."""

from __future__ import annotations

import structlog

from payledger.adapters.d365.business_events import INVOICE_POSTED, invoice_posted
from payledger.bootstrap.attempts import is_last_attempt
from payledger.bootstrap.container import Container
from payledger.bootstrap.dunning import missed_charges
from payledger.bootstrap.payments import charge_ports
from payledger.bootstrap.risk import item_screen
from payledger.engine.jobs import Handler, Job
from payledger.flows.auto_pay import pay_posted_invoice
from payledger.stores.business_events import (
    PROCESS_BUSINESS_EVENT,
    BusinessEvents,
    EventStatus,
    StoredEvent,
)

log = structlog.get_logger(__name__)

PARKED_ALERT = "business-events-parked"
"""The alert key of business events whose processing gave up."""


def acts_on(container: Container, business_event_id: str) -> bool:
    """Whether payledger processes this kind of business event (else it is only stored)."""
    s = container.settings
    return business_event_id == INVOICE_POSTED and s.api.auto_pay and s.d365.enabled


class _Attempts:
    def __init__(self, container: Container, events: BusinessEvents, row_id: int) -> None:
        self.container = container
        self.events = events
        self.row_id = row_id

    async def start(self) -> bool:
        async with self.container.database.transaction() as conn:
            return await self.events.start_charge(conn, self.row_id)


async def _park(
    container: Container, events: BusinessEvents, event: StoredEvent, error: Exception
) -> None:
    """Processing gave up: the event is parked with why (never left ``charging``) and the
    operators are alerted, since the card may have been charged."""
    reason = f"{type(error).__name__}: {error}"
    invoice = str(event.payload.get("InvoiceId") or "-")
    try:
        async with container.database.transaction() as conn:
            now = await events.get(conn, event.id)
            charging = now is not None and now.status != EventStatus.RECEIVED
            await events.finish(conn, event.id, EventStatus.PARKED, f"gave up: {reason}")
        maybe = "The card may have been charged. " if charging else "Nothing was charged. "
        await container.alerts.notify(
            PARKED_ALERT,
            "A D365 business event could not be processed",
            f"Business event {event.event_id} (invoice {invoice}) was parked: {reason}\n"
            f"{maybe}Fix the cause, then `payledger replay --kind {PROCESS_BUSINESS_EVENT}`: "
            "a charge an earlier attempt made is found before anything is charged.",
            severity="critical" if charging else "warning",
            facts={"event": event.event_id, "invoice": invoice, "reason": reason},
        )
    except Exception as exc:  # the job's own failure is what the worker must record
        log.error("business_event.not_parked", event_id=event.event_id, error=str(exc))


def process_business_event(container: Container) -> Handler:
    """Charge the invoice a stored business event names; park the event on the last attempt.
    A charge the risk screen holds leaves the event ``held``: the review's decision runs this
    job again, which charges it (approved) or marks it ``rejected``."""
    events = BusinessEvents(container.queue)
    acting = (EventStatus.RECEIVED, EventStatus.CHARGING, EventStatus.PARKED, EventStatus.HELD)

    async def process(job: Job) -> None:
        row_id = int(job.payload["business_event_id"])
        async with container.database.transaction() as conn:
            event = await events.get(conn, row_id)
        if event is None or event.status not in acting:
            return
        posted = invoice_posted(event.payload, event.received_at)
        try:
            result = await pay_posted_invoice(
                posted,
                company=container.settings.d365.company,
                ctx=await charge_ports(
                    container,
                    screened_by=item_screen(
                        container, PROCESS_BUSINESS_EVENT, {"business_event_id": row_id}
                    ),
                ),
                attempts=_Attempts(container, events, row_id),
                dunning=await missed_charges(container),
            )
        except Exception as exc:
            if is_last_attempt(job, exc):
                await _park(container, events, event, exc)
            raise
        outcome = result.reason + (
            f" (transaction {result.gateway_txn_id})" if result.gateway_txn_id else ""
        )
        async with container.database.transaction() as conn:
            await events.finish(conn, row_id, result.outcome.value, outcome)
        log.info(
            "business_event.processed",
            event_id=event.event_id,
            invoice=posted.invoice_number,
            outcome=result.outcome.value,
        )

    return process
