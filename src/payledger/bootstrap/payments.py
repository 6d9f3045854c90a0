"""Wiring of payments in: PayTrace polling, and the ports charging works with."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import structlog

from payledger.adapters.d365.receivables import D365Receivables, ReceivableFields
from payledger.adapters.paytrace.charging import PayTraceCardGateway
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.bootstrap.container import Container
from payledger.config import Settings
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.charge_payment import ChargeContext, charge_context
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.flows.screen_charge import ItemScreen
from payledger.mapping import CompiledTemplate, StaticCatalog, compile_template, paytrace_entities
from payledger.stores.charge_records import SqlChargeRecords
from payledger.stores.payment_events import SqlPaymentEventStore

log = structlog.get_logger(__name__)

POLL_PAYTRACE = "paytrace.poll"


def poll_paytrace(container: Container) -> Handler:
    pt = container.settings.paytrace
    command = PollPayments(
        overlap=timedelta(minutes=pt.poll_overlap_minutes),
        first_lookback=timedelta(hours=pt.first_poll_lookback_hours),
    )

    async def poll(_job: Job) -> None:
        source = PayTraceGateway(await container.paytrace_client())
        store = SqlPaymentEventStore(container.inbox)
        result = await poll_payments(command, source=source, store=store, clock=container.clock)
        log.info("paytrace.polled", seen=result.seen, new=result.new, duplicates=result.duplicates)

    return poll


def poll_schedule(settings: Settings) -> Schedule:
    return Schedule(
        name="paytrace-poll",
        cron=settings.paytrace.poll_cron,
        job_kind=POLL_PAYTRACE,
        ordering_key="paytrace-poll",
    )


async def card_gateway(container: Container) -> PayTraceCardGateway:
    pt = container.settings.paytrace
    return PayTraceCardGateway(
        await container.paytrace_client(),
        customer_title=pt.customer_title,
        order_title=pt.order_title,
        titles=tuple(pt.discretionary_titles),
    )


async def receivables(container: Container) -> D365Receivables:
    f = container.settings.d365.fields
    return D365Receivables(
        await container.d365_ledger(),
        ReceivableFields(
            customer_gateway_id=f.customer_paytrace_id,
            customer_auto_pay=f.customer_auto_pay,
            order_payment_status=f.order_payment_status,
            order_payment_amount=f.order_payment_amount,
        ),
    )


def charge_request_template(container: Container) -> CompiledTemplate:
    """``paytrace_transaction_request`` as configured, checked against the PayTrace request
    (lengths truncated or refused as the template says, discretionary titles as configured)."""
    titles = container.settings.paytrace.discretionary_titles
    return compile_template(
        container.templates()["paytrace_transaction_request"],
        container.template_settings(),
        StaticCatalog.of(paytrace_entities(titles)),
    )


async def charge_ports(
    container: Container, *, screened_by: ItemScreen | None = None
) -> ChargeContext:
    """The ports charging works with: PayTrace, D365 receivables and payledger's records
    (with the templates in force now: an API request is no job, so it checks here); with
    ``screened_by``, payledger's own charges are screened first and may be held."""
    await container.refresh_templates()
    ctx = charge_context(
        await card_gateway(container),
        await receivables(container),
        SqlChargeRecords(container.inbox),
        container.clock,
        charge_request_template(container),
    )
    return replace(ctx, items=screened_by) if screened_by is not None else ctx
