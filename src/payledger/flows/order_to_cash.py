"""Order to cash: a web shop's order is charged, then created in the ERP, then posted.

Steps, in business terms: claim the order id (one charge per order, ever, unless declined);
charge the card (a sale, or an authorization); on a decline, stop there (or, when configured,
still create the order, on hold); on approval, store the order, the job that completes it and
the payment's event in one go, then try to complete it at once: find or create the customer,
create the order and its lines (found again by the shop's order id, so nothing is created
twice), and hand the ERP references to the payment's event, which posts the payment to the
ledger like any other. When the ERP is slow or down the answer does not wait: the stored job
completes the order later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

from payledger.domain.charges import CardSource, VaultCard
from payledger.domain.clock import Clock
from payledger.domain.errors import (
    AmbiguousOutcome,
    DomainError,
    MappingError,
    PayLedgerError,
    RejectedError,
    TransientError,
)
from payledger.domain.events import PaymentObserved
from payledger.domain.model import PaymentKind
from payledger.domain.shop_orders import (
    ErpReferences,
    ShopOrder,
    ShopOrderRecord,
    ShopOrderStatus,
)
from payledger.flows.ports import OrderGateway, SalesDesk, ShopOrderStore
from payledger.mapping import CompiledTemplate, source_document


class OrderBeingCharged(PayLedgerError):
    """Another request is charging this order right now; ask again shortly."""


class UnknownOrder(DomainError):
    """No shop order has this id."""


@dataclass(frozen=True)
class OrderRules:
    """What the configuration decides about shop orders.

    Attributes:
        capture: charge with a sale (True) or only authorize (False).
        hold_on_decline: create a declined order in the ERP anyway, payment status Declined.
        erp_timeout: seconds the request waits for the ERP before answering "pending".
        grace: seconds after that before the queued job may start (it never overlaps the
            request's own attempt).
        customer_title, order_title: the payment custom fields that carry the ERP customer
            account and sales order number to the posting flow.
        stale_charge_after: an order claimed for charging this long ago was cut off: the
            next request for it looks the charge up at the gateway before charging anew.
    """

    capture: bool = True
    hold_on_decline: bool = False
    erp_timeout: float = 10.0
    grace: float = 2.0
    customer_title: str = "D365 Customer"
    order_title: str = "D365 Order"
    stale_charge_after: float = 600.0
    """Seconds after which an order still "charging" is taken over and looked up."""


@dataclass(frozen=True)
class OrderTemplates:
    customer: CompiledTemplate
    """A new ERP customer (``d365_customer``)."""
    header: CompiledTemplate
    """The sales order header (``d365_sales_order_header``)."""
    line: CompiledTemplate
    """One sales order line (``d365_sales_order_line``)."""


@dataclass(frozen=True)
class OrderOutcome:
    record: ShopOrderRecord
    known_before: bool = False
    """The order id had been charged by an earlier request: nothing was charged now."""


async def place_order(
    shop: ShopOrder,
    card: CardSource,
    *,
    rules: OrderRules,
    templates: OrderTemplates,
    gateway: OrderGateway,
    desk: SalesDesk,
    store: ShopOrderStore,
    clock: Clock,
) -> OrderOutcome:
    """Charge ``shop`` once and complete it in the ERP within ``rules.erp_timeout``.

    Raises:
        OrderBeingCharged: another request is charging the same order id (and has not been
            at it for longer than ``rules.stale_charge_after``).
        RejectedError, TransientError: the gateway refused or could not be reached; nothing
            was charged and the order id is free again.
        AmbiguousOutcome: the charge's outcome is unknown; the order id stays claimed.
    """
    shop = _with_vault_id(shop, card)
    known = await store.claim(shop)
    if known is not None and known.status is not ShopOrderStatus.CHARGING:
        return OrderOutcome(known, known_before=True)
    observed = None
    if known is not None:
        observed = await _settle_stale_charge(shop, rules, gateway, store, clock)
    if observed is None:
        observed = await _charge(shop, card, rules, gateway, store)
    payment = observed.payment
    charged = ShopOrderRecord(ShopOrderStatus.CHARGING, shop, payment)
    if not payment.is_approved and not rules.hold_on_decline:
        declined = replace(charged, status=ShopOrderStatus.DECLINED)
        await store.declined(declined)
        return OrderOutcome(declined)
    run_at = clock.now() + timedelta(seconds=rules.erp_timeout + rules.grace)
    event = observed if payment.is_approved else None
    pending = await store.accepted(charged, event, source=gateway.source_name, run_at=run_at)
    try:
        done = await asyncio.wait_for(
            _complete(pending, rules=rules, templates=templates, desk=desk, store=store,
                      inline=True),
            rules.erp_timeout,
        )  # fmt: skip
    except (MappingError, RejectedError) as exc:
        await store.failed(pending, str(exc))
        return OrderOutcome(replace(pending, status=ShopOrderStatus.FAILED, error=str(exc)))
    except Exception:  # paid and stored: the queued job retries, and reports what fails
        return OrderOutcome(pending)
    return OrderOutcome(done)


async def _charge(
    shop: ShopOrder,
    card: CardSource,
    rules: OrderRules,
    gateway: OrderGateway,
    store: ShopOrderStore,
) -> PaymentObserved:
    try:
        return await gateway.charge_order(shop, card, capture=rules.capture)
    except AmbiguousOutcome:
        raise  # the order id stays claimed until the charge is found or known absent
    except (RejectedError, TransientError):
        await store.release(shop.reference)
        raise


async def _settle_stale_charge(
    shop: ShopOrder,
    rules: OrderRules,
    gateway: OrderGateway,
    store: ShopOrderStore,
    clock: Clock,
) -> PaymentObserved | None:
    """An order left "charging" for longer than any charge takes was cut off (a crash, a
    lost answer): take it over and find its charge at the gateway; None when there is none."""
    stale_before = clock.now() - timedelta(seconds=rules.stale_charge_after)
    since = await store.take_over(shop.reference, stale_before=stale_before)
    if since is None:
        raise OrderBeingCharged(f"order {shop.reference} is being charged right now")
    return await gateway.find_order_charge(shop, since)


async def complete_order(
    reference: str,
    *,
    rules: OrderRules,
    templates: OrderTemplates,
    desk: SalesDesk,
    store: ShopOrderStore,
) -> ShopOrderRecord:
    """The queued job's work: create the charged order in the ERP (safe to run again).

    Raises:
        MappingError, RejectedError: the ERP cannot take the order; it is marked failed.
        TransientError, AmbiguousOutcome: try again later.
    """
    record = await store.get(reference)
    if record is None:
        raise UnknownOrder(f"no shop order {reference!r}")
    if record.status is ShopOrderStatus.COMPLETED:
        return record
    if record.status not in (ShopOrderStatus.PENDING, ShopOrderStatus.FAILED):
        raise UnknownOrder(f"shop order {reference!r} is {record.status.value}: nothing to create")
    try:
        return await _complete(
            record, rules=rules, templates=templates, desk=desk, store=store, inline=False
        )
    except (MappingError, RejectedError) as exc:
        await store.failed(record, str(exc))
        raise


def _with_vault_id(shop: ShopOrder, card: CardSource) -> ShopOrder:
    """A card on file names its gateway customer: the ERP customer gets that id."""
    if not isinstance(card, VaultCard):
        return shop
    customer = replace(shop.order.customer, gateway_customer_id=card.customer_id)
    return replace(shop, order=replace(shop.order, customer=customer))


def payment_status(record: ShopOrderRecord) -> str:
    """The order's payment status as the ERP shows it."""
    payment = record.payment
    if payment is None or not payment.is_approved:
        return "Declined"
    return "Authorized" if payment.kind is PaymentKind.AUTHORIZATION else "Paid"


async def _complete(
    record: ShopOrderRecord,
    *,
    rules: OrderRules,
    templates: OrderTemplates,
    desk: SalesDesk,
    store: ShopOrderStore,
    inline: bool,
) -> ShopOrderRecord:
    account = await _customer_account(record, desk, templates)
    number = await _sales_order(record, account, desk, templates)
    erp = ErpReferences(account, number, payment_status(record))
    fields = {rules.customer_title: account, rules.order_title: number}
    return await store.completed(record, erp, event_fields=fields, inline=inline)


async def _customer_account(
    record: ShopOrderRecord, desk: SalesDesk, templates: OrderTemplates
) -> str:
    """The account the shop named, else the customer with the card's vault id, else the one
    with the e-mail address, else a new customer (with the vault id, flagged for sync)."""
    customer = record.order.order.customer
    gateway_id = customer.gateway_customer_id
    if customer.account:
        named = await desk.customer(customer.account)
        if named is None:
            raise MappingError(
                f"order {record.reference}: D365 customer {customer.account} does not exist"
            )
        return named.account
    found = await desk.customer_with_gateway_id(gateway_id) if gateway_id else None
    if found is None and customer.email:
        found = await desk.customer_with_email(customer.email)
    if found is None:
        new = templates.customer.map(source_document(customer=customer))
        return await desk.create_customer(new, email=customer.email)
    if gateway_id and not found.gateway_id:
        await desk.set_gateway_id(found.account, gateway_id)
    return found.account


async def _sales_order(
    record: ShopOrderRecord, account: str, desk: SalesDesk, templates: OrderTemplates
) -> str:
    """The order found by the shop's order id, else created; then each line it lacks."""
    shop = record.order.order
    customer = replace(shop.customer, account=account)
    order = replace(shop, customer=customer, payment_status=payment_status(record))
    header = templates.header.map(source_document(record.payment, order=order, customer=customer))
    existing = await desk.order(record.reference)
    if existing is None:
        number = await desk.create_order(header)
        have: frozenset[int] = frozenset()
    else:
        number, have = existing.number, existing.line_numbers
        await desk.update_order_payment(number, header)
    numbered = replace(order, number=number)
    lines = [
        templates.line.map(
            source_document(order=numbered, line=line, context={"line_number": index})
        )
        for index, line in enumerate(order.lines, 1)
        if index not in have
    ]
    if lines:
        await desk.add_order_lines(lines)
    return number
