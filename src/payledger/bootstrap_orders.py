"""Composition of order to cash (part of the composition root, see bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from payledger.adapters.d365.sales import D365SalesDesk, OrderFields
from payledger.adapters.paytrace.orders import PayTraceOrderGateway
from payledger.bootstrap_sync import customer_directory
from payledger.domain.charges import CardSource
from payledger.domain.errors import PayLedgerError
from payledger.domain.shop_orders import ShopOrder, ShopOrderRecord
from payledger.engine.jobs import Job
from payledger.flows.order_to_cash import (
    OrderOutcome,
    OrderRules,
    OrderTemplates,
    complete_order,
    give_up_order,
    place_order,
)
from payledger.mapping import compile_template
from payledger.stores.shop_orders import COMPLETE_ORDER, SqlShopOrderStore

if TYPE_CHECKING:
    from payledger.bootstrap import Container

log = structlog.get_logger(__name__)


def order_rules(container: Container) -> OrderRules:
    s = container.settings
    return OrderRules(
        capture=s.orders.transaction == "sale",
        hold_on_decline=s.orders.on_decline == "hold",
        erp_timeout=s.orders.d365_timeout_seconds,
        customer_title=s.paytrace.customer_title,
        order_title=s.paytrace.order_title,
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


@dataclass(frozen=True)
class _Parts:
    rules: OrderRules
    templates: OrderTemplates
    desk: D365SalesDesk
    store: SqlShopOrderStore


async def _parts(container: Container) -> _Parts:
    return _Parts(
        order_rules(container),
        order_templates(container),
        await sales_desk(container),
        shop_orders(container),
    )


async def place_shop_order(
    container: Container, shop: ShopOrder, card: CardSource, *, client: str
) -> OrderOutcome:
    """Charge API ``client``'s shop order in PayTrace and create it in D365 (or leave that to
    the queue)."""
    parts = await _parts(container)
    return await place_order(
        shop,
        card,
        client=client,
        rules=parts.rules,
        templates=parts.templates,
        gateway=PayTraceOrderGateway(await container.paytrace_client()),
        desk=parts.desk,
        store=parts.store,
        clock=container.clock,
        alerts=container.alerts,
    )


async def complete_shop_order(container: Container, reference: str) -> ShopOrderRecord:
    parts = await _parts(container)
    return await complete_order(
        reference,
        rules=parts.rules,
        templates=parts.templates,
        desk=parts.desk,
        store=parts.store,
        alerts=container.alerts,
    )


def is_last_attempt(job: Job, error: Exception) -> bool:
    """Whether the worker dead-letters ``job`` after this failure (as ``Queue.settle`` decides:
    a non-retryable error, or the retry budget spent)."""
    permanent = isinstance(error, PayLedgerError) and not error.retryable
    return permanent or job.attempts >= job.max_attempts


async def _give_up(container: Container, job: Job, reference: str, error: Exception) -> None:
    reason = f"gave up after {job.attempts} attempt(s): {type(error).__name__}: {error}"
    try:
        await give_up_order(
            reference, reason, store=shop_orders(container), alerts=container.alerts
        )
    except Exception as exc:  # the job's own failure is what the worker must record
        log.error("order.not_parked", reference=reference, error=str(exc))


def register_orders(container: Container) -> None:
    """The job that completes a charged shop order in D365 when the request could not."""

    async def complete(job: Job) -> None:
        reference = str(job.payload["reference"])
        try:
            record = await complete_shop_order(container, reference)
        except Exception as exc:
            if is_last_attempt(job, exc):
                await _give_up(container, job, reference, exc)
            raise
        log.info(
            "order.completed",
            reference=record.reference,
            sales_order=record.erp.sales_order_number if record.erp else None,
        )

    container.handlers[COMPLETE_ORDER] = complete
