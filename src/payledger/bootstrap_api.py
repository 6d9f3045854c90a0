"""Composition of the payments API and D365 business events (part of the composition root)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from payledger.adapters.d365.receivables import D365Receivables, ReceivableFields
from payledger.adapters.paytrace.charging import PayTraceCardGateway
from payledger.bootstrap_orders import is_last_attempt
from payledger.engine.jobs import Job
from payledger.flows.auto_pay import InvoicePosted, pay_posted_invoice
from payledger.flows.charge_payment import ChargeContext
from payledger.stores.business_events import (
    PROCESS_BUSINESS_EVENT,
    BusinessEvents,
    EventStatus,
    StoredEvent,
)
from payledger.stores.charge_records import SqlChargeRecords

if TYPE_CHECKING:
    from payledger.bootstrap import Container

log = structlog.get_logger(__name__)

INVOICE_POSTED = "SalesInvoicePostedBusinessEvent"
PARKED_ALERT = "business-events-parked"
"""The alert key of business events whose processing gave up."""


async def charge_context(container: Container) -> ChargeContext:
    """The ports charging works with: PayTrace, D365 receivables and payledger's records."""
    s = container.settings
    gateway = PayTraceCardGateway(
        await container.paytrace_client(),
        customer_title=s.paytrace.customer_title,
        order_title=s.paytrace.order_title,
        titles=tuple(s.paytrace.discretionary_titles),
    )
    f = s.d365.fields
    receivables = D365Receivables(
        await container.d365_ledger(),
        ReceivableFields(
            customer_gateway_id=f.customer_paytrace_id,
            customer_auto_pay=f.customer_auto_pay,
            order_payment_status=f.order_payment_status,
            order_payment_amount=f.order_payment_amount,
        ),
    )
    return ChargeContext(
        gateway=gateway,
        receivables=receivables,
        records=SqlChargeRecords(container.inbox),
        now=container.clock.now(),
    )


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


def _invoice_posted(event: StoredEvent) -> InvoicePosted:
    payload = event.payload
    return InvoicePosted(
        invoice_number=str(payload.get("InvoiceId") or ""),
        customer_account=str(payload.get("InvoiceAccount") or ""),
        legal_entity=str(
            payload.get("LegalEntity") or payload.get("BusinessEventLegalEntity") or ""
        ),
        received_at=event.received_at,
    )


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


def register_business_events(container: Container) -> None:
    """Stored ``SalesInvoicePostedBusinessEvent`` rows charge the invoice (auto-pay); one
    whose job gives up is parked with an alert."""
    events = BusinessEvents(container.queue)
    acting = (EventStatus.RECEIVED, EventStatus.CHARGING, EventStatus.PARKED)

    async def process(job: Job) -> None:
        row_id = int(job.payload["business_event_id"])
        async with container.database.transaction() as conn:
            event = await events.get(conn, row_id)
        if event is None or event.status not in acting:
            return
        posted = _invoice_posted(event)
        try:
            result = await pay_posted_invoice(
                posted,
                company=container.settings.d365.company,
                ctx=await charge_context(container),
                attempts=_Attempts(container, events, row_id),
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

    container.handlers[PROCESS_BUSINESS_EVENT] = process
