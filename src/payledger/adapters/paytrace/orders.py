"""Order to cash's ``OrderGateway`` port on PayTrace: a shop order's sale or authorization.

The card arrives as PayTrace Protect gave it to the shop (``hpf_token`` + ``enc_key``, or an
encrypted number) or as a customer profile id; payledger never sees a card number. The request's
fields are the charge request template's (by default the shop's order id goes to ``invoice_id``
and ``customer_reference_id``): the transaction is found again by the order id in either, so a
lost answer is looked up before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.sale_requests import sale_details, send_charge
from payledger.adapters.paytrace.translate import (
    event_key,
    kind_of,
    lookup_window,
    parse_pacific,
    payment_from_export,
    payment_from_result,
)
from payledger.domain.charges import CardSource, StoredCard
from payledger.domain.events import PaymentObserved
from payledger.domain.model import PaymentKind
from payledger.domain.shop_orders import ShopOrder

MAX_REFERENCE = 50
"""PayTrace's limit for ``invoice_id`` and ``customer_reference_id`` (v3 documents 50)."""
LOOKUP_SKEW = timedelta(minutes=5)
"""PayTrace's clock and payledger's may disagree this much."""


class PayTraceOrderGateway:
    """Implements ``flows.ports.OrderGateway`` with a :class:`PayTraceClient`."""

    source_name = "paytrace"

    def __init__(self, client: PayTraceClient) -> None:
        self.client = client

    async def charge_order(
        self, order: ShopOrder, card: CardSource, *, capture: bool, request: Mapping[str, Any]
    ) -> PaymentObserved:
        amount, details = order.total.amount, sale_details(request)
        result = await send_charge(self.client, amount, card, details, capture=capture)
        payment = payment_from_result(
            result,
            kind=PaymentKind.SALE if capture else PaymentKind.AUTHORIZATION,
            amount=amount,
            occurred_at=self.client.clock.now(),
            currency=order.total.currency,
            invoice_ref=details.invoice_id or "",
        )
        profile_id = card.customer_id if isinstance(card, StoredCard) else ""
        payment = replace(
            payment,
            order_ref=order.reference[:MAX_REFERENCE],
            customer=replace(order.order.customer, gateway_customer_id=profile_id),
        )
        return PaymentObserved(event_key(payment), payment)

    async def find_order_charge(self, order: ShopOrder, since: datetime) -> PaymentObserved | None:
        reference = order.reference[:MAX_REFERENCE]
        start, end = lookup_window(since, self.client.clock.now(), self.client.tz)
        records = await self.client.export_transactions(start, end, including_text=reference)
        charges = [
            record
            for record in records
            if reference in (record.invoice_id, record.customer_reference_id)
            and record.amount == order.total.amount
            and kind_of(record) in (PaymentKind.SALE, PaymentKind.AUTHORIZATION)
            and (
                not record.created.at
                or parse_pacific(record.created.at, self.client.tz) >= since - LOOKUP_SKEW
            )
        ]
        if not charges:
            return None
        found = max(charges, key=lambda record: record.transaction_id)
        payment = payment_from_export(found, currency=order.total.currency, tz=self.client.tz)
        customer = replace(order.order.customer, gateway_customer_id=found.customer_id)
        payment = replace(payment, order_ref=reference, customer=customer)
        return PaymentObserved(event_key(payment), payment)
