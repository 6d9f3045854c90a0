"""Order to cash: a web shop's order is charged, then created in the ERP, then posted.

Steps, in business terms: check that nothing the ERP will be queried by could match another
record; claim the order id for the API client (one charge per order, ever, unless declined; an
id another client used is refused); charge the card (a sale, or an authorization); on a
decline, stop there (or, when configured, still create the order, on hold); on approval, store
the order, the job that completes it and the payment's event in one go, then try to complete
it at once: find or create the customer, create the order and its lines (found again by the
shop's order id, so nothing is created twice), and hand the ERP references to the payment's
event, which posts the payment to the ledger like any other. When the ERP is slow or down the
answer does not wait: the stored job completes the order later. A paid order the ERP refuses,
or that its job gives up on, is parked as failed with the reason, and the operators are
alerted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

from payledger.domain.charges import CardSource, StoredCard
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
    check_erp_values,
)
from payledger.flows.charge_request import ChargeRequests
from payledger.flows.ports import OperatorAlerts, OrderGateway, SalesDesk, ShopOrderStore
from payledger.mapping import CompiledTemplate, source_document

PARKED_ALERT = "orders-parked"
"""The alert key of shop orders that were charged (or held) but are not in the ERP."""


class OrderBeingCharged(PayLedgerError):
    """Another request is charging this order right now; ask again shortly."""


class UnknownOrder(DomainError):
    """No shop order has this id."""


class OrderIdTaken(DomainError):
    """Another API client placed an order under this id (nothing of it is told)."""


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
        erp_rows_wait: seconds the charge waits for the ERP rows its request reads (the
            customer the shop names); after that it is charged without them.
    """

    capture: bool = True
    hold_on_decline: bool = False
    erp_timeout: float = 10.0
    grace: float = 2.0
    customer_title: str = "D365 Customer"
    order_title: str = "D365 Order"
    stale_charge_after: float = 600.0
    """Seconds after which an order still "charging" is taken over and looked up."""
    erp_rows_wait: float = 3.0


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
    client: str,
    rules: OrderRules,
    templates: OrderTemplates,
    gateway: OrderGateway,
    desk: SalesDesk,
    store: ShopOrderStore,
    clock: Clock,
    alerts: OperatorAlerts,
    requests: ChargeRequests,
) -> OrderOutcome:
    """Charge ``shop`` for API ``client`` once and complete it in the ERP within
    ``rules.erp_timeout``.

    Raises:
        InvalidErpValue: a value the ERP is queried by could match another record (e.g. a
            ``*`` in the customer account); nothing was stored or charged.
        OrderIdTaken: another client placed an order under this id; nothing was charged.
        OrderBeingCharged: another request is charging the same order id (and has not been
            at it for longer than ``rules.stale_charge_after``).
        RejectedError, TransientError: the gateway refused or could not be reached; nothing
            was charged and the order id is free again.
        MappingError: the charge request template cannot map the order (or maps card data);
            nothing was charged and the order id is free again.
        AmbiguousOutcome: the charge's outcome is unknown; the order id stays claimed.
    """
    shop = _with_gateway_customer_id(shop, card)
    check_erp_values(shop)
    known = await store.claim(shop, client=client)
    if known is not None and not known.belongs_to(client):
        raise OrderIdTaken(
            f"order id {shop.reference!r} is taken: another API client placed an order under "
            "it; use another order id"
        )
    if known is not None and known.status is not ShopOrderStatus.CHARGING:
        return OrderOutcome(known, known_before=True)
    observed = None
    if known is not None:
        observed = await _settle_stale_charge(shop, rules, gateway, store, clock)
    if observed is None:
        observed = await _charge(shop, card, rules, gateway, store, requests)
    payment = observed.payment
    charged = ShopOrderRecord(ShopOrderStatus.CHARGING, shop, payment, client=client)
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
        return OrderOutcome(await park_order(pending, str(exc), store=store, alerts=alerts))
    except Exception:  # paid and stored: the queued job retries, and reports what fails
        return OrderOutcome(pending)
    return OrderOutcome(done)


async def _charge(
    shop: ShopOrder,
    card: CardSource,
    rules: OrderRules,
    gateway: OrderGateway,
    store: ShopOrderStore,
    requests: ChargeRequests,
) -> PaymentObserved:
    try:
        request = await requests.for_shop_order(shop, card, wait=rules.erp_rows_wait)
        return await gateway.charge_order(shop, card, capture=rules.capture, request=request)
    except AmbiguousOutcome:
        raise  # the order id stays claimed until the charge is found or known absent
    except (MappingError, RejectedError, TransientError):
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
    alerts: OperatorAlerts,
) -> ShopOrderRecord:
    """The queued job's work: create the charged order in the ERP (safe to run again).

    Raises:
        MappingError, RejectedError: the ERP cannot take the order; it is parked (failed).
        TransientError, AmbiguousOutcome: try again later (:func:`give_up_order` when the
            job will not).
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
        await park_order(record, str(exc), store=store, alerts=alerts)
        raise


async def give_up_order(
    reference: str, reason: str, *, store: ShopOrderStore, alerts: OperatorAlerts
) -> None:
    """The job completing ``reference`` tries no more (``reason``): a paid order still
    pending is parked, so it never waits silently without its ERP record."""
    record = await store.get(reference)
    if record is not None and record.status is ShopOrderStatus.PENDING:
        await park_order(record, reason, store=store, alerts=alerts)


async def park_order(
    record: ShopOrderRecord, reason: str, *, store: ShopOrderStore, alerts: OperatorAlerts
) -> ShopOrderRecord:
    """Mark a paid order failed with ``reason``; the operators are alerted when it was
    pending (a failed one only gets the newer reason)."""
    await store.failed(record, reason)
    parked = replace(record, status=ShopOrderStatus.FAILED, error=reason)
    if record.status is ShopOrderStatus.PENDING:
        paid = "was charged" if record.payment and record.payment.is_approved else "was held"
        await alerts.notify(
            PARKED_ALERT,
            "A shop order is not in D365",
            f"Shop order {record.reference} {paid} but could not be created in D365: "
            f"{reason}\nFix the cause, then `payledger replay --id {record.job}` (its job), "
            "and replay the payment's posting if it is dead too (it waits for the customer).",
            severity="critical",
            facts=_facts(record, reason),
        )
    return parked


def _facts(record: ShopOrderRecord, reason: str) -> dict[str, object]:
    payment = record.payment
    return {
        "order": record.reference,
        "client": record.client or "-",
        "transaction": payment.gateway_txn_id if payment else "-",
        "amount": str(payment.amount) if payment else "-",
        "reason": reason,
    }


def _with_gateway_customer_id(shop: ShopOrder, card: CardSource) -> ShopOrder:
    """A card on file names its gateway customer: the ERP customer gets that id."""
    if not isinstance(card, StoredCard):
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
    """The account the shop named, else the customer with the card's gateway customer id, else
    the one with the e-mail address, else a new customer (with that id, flagged for sync)."""
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


@dataclass(frozen=True)
class OrderParts:
    """What placing and completing a shop order both work with."""

    rules: OrderRules
    templates: OrderTemplates
    desk: SalesDesk
    store: ShopOrderStore
    alerts: OperatorAlerts
    requests: ChargeRequests
    """How a shop order's charge request is built (the charge request template)."""


async def place_shop_order(
    shop: ShopOrder,
    card: CardSource,
    *,
    client: str,
    parts: OrderParts,
    gateway: OrderGateway,
    clock: Clock,
) -> OrderOutcome:
    """Charge API ``client``'s shop order and create it in the ERP (or leave that to the
    queue); see :func:`place_order`."""
    return await place_order(
        shop,
        card,
        client=client,
        rules=parts.rules,
        templates=parts.templates,
        gateway=gateway,
        desk=parts.desk,
        store=parts.store,
        clock=clock,
        alerts=parts.alerts,
        requests=parts.requests,
    )


async def complete_shop_order(reference: str, parts: OrderParts) -> ShopOrderRecord:
    """The queued job's work on a charged order; see :func:`complete_order`."""
    return await complete_order(
        reference,
        rules=parts.rules,
        templates=parts.templates,
        desk=parts.desk,
        store=parts.store,
        alerts=parts.alerts,
    )
