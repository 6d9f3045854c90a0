"""Wiring of order to cash: its rules, templates and ports, and the job that completes an
order in D365 when the request could not."""

from __future__ import annotations

import structlog

from payledger.adapters.d365.sales import D365SalesDesk, OrderFields
from payledger.adapters.paytrace.orders import PayTraceOrderGateway
from payledger.bootstrap.attempts import is_last_attempt
from payledger.bootstrap.container import Container
from payledger.bootstrap.customers import customer_directory
from payledger.bootstrap.payments import charge_request_template, receivables
from payledger.config import Settings
from payledger.engine.jobs import Handler, Job
from payledger.flows.charge_request import ChargeRequests
from payledger.flows.order_to_cash import (
    OrderParts,
    OrderRules,
    OrderTemplates,
    complete_shop_order,
    give_up_order,
)
from payledger.mapping import compile_template
from payledger.stores.shop_orders import SqlShopOrderStore

log = structlog.get_logger(__name__)


def order_rules(settings: Settings) -> OrderRules:
    return OrderRules(
        capture=settings.orders.transaction == "sale",
        hold_on_decline=settings.orders.on_decline == "hold",
        erp_timeout=settings.orders.d365_timeout_seconds,
        customer_title=settings.paytrace.customer_title,
        order_title=settings.paytrace.order_title,
    )


def order_templates(container: Container) -> OrderTemplates:
    templates, values = container.templates(), container.template_settings()
    return OrderTemplates(
        customer=compile_template(templates["d365_customer"], values),
        header=compile_template(templates["d365_sales_order_header"], values),
        line=compile_template(templates["d365_sales_order_line"], values),
    )


def shop_orders(container: Container) -> SqlShopOrderStore:
    return SqlShopOrderStore(container.inbox)


async def sales_desk(container: Container) -> D365SalesDesk:
    d = container.settings.d365
    f = d.fields
    payment_fields = (
        f.order_payment_status,
        f.order_payment_auth_id,
        f.order_payment_amount,
        f.order_payment_message,
    )
    return D365SalesDesk(
        await customer_directory(container),
        OrderFields(
            sales_orders=d.entity_sets.sales_orders,
            sales_order_lines=d.entity_sets.sales_order_lines,
            payment_fields=tuple(name for name in payment_fields if name),
        ),
    )


async def order_parts(container: Container) -> OrderParts:
    """What placing and completing a shop order work with (D365 is connected, not PayTrace),
    with the templates in force now."""
    await container.refresh_templates()
    return OrderParts(
        rules=order_rules(container.settings),
        templates=order_templates(container),
        desk=await sales_desk(container),
        store=shop_orders(container),
        alerts=container.alerts,
        requests=ChargeRequests(charge_request_template(container), await receivables(container)),
    )


async def order_gateway(container: Container) -> PayTraceOrderGateway:
    return PayTraceOrderGateway(await container.paytrace_client())


def complete_order_job(container: Container) -> Handler:
    """Complete a charged shop order in D365; park it with an alert on the last attempt."""

    async def complete(job: Job) -> None:
        reference = str(job.payload["reference"])
        try:
            record = await complete_shop_order(reference, await order_parts(container))
        except Exception as exc:
            if is_last_attempt(job, exc):
                await _give_up(container, job, reference, exc)
            raise
        log.info(
            "order.completed",
            reference=record.reference,
            sales_order=record.erp.sales_order_number if record.erp else None,
        )

    return complete


async def _give_up(container: Container, job: Job, reference: str, error: Exception) -> None:
    reason = f"gave up after {job.attempts} attempt(s): {type(error).__name__}: {error}"
    try:
        await give_up_order(
            reference, reason, store=shop_orders(container), alerts=container.alerts
        )
    except Exception as exc:  # the job's own failure is what the worker must record
        log.error("order.not_parked", reference=reference, error=str(exc))
