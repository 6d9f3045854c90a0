"""Order to cash's ``OrderGateway`` port on PayTrace: a shop order's sale or authorization.

The card arrives as PayTrace Protect gave it to the shop (``hpf_token`` + ``enc_key``, or an
encrypted number) or as a customer profile id; payledger never sees a card number. The shop's
order id goes to ``invoice_id`` and ``customer_reference_id``, so the transaction can be found
by it (and a lost answer is looked up by it before anything is sent again).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.schemas import (
    PayTraceAddress,
    PayTraceEncryptedCard,
    PayTraceProtectNonce,
    PayTraceSaleDetails,
    PayTraceTransactionResult,
)
from payledger.adapters.paytrace.translate import (
    event_key,
    kind_of,
    lookup_window,
    parse_pacific,
    payment_from_export,
    payment_from_result,
)
from payledger.domain.charges import CardSource, EncryptedCard, ProtectCard, StoredCard
from payledger.domain.events import PaymentObserved
from payledger.domain.model import Address, PaymentKind
from payledger.domain.shop_orders import ShopOrder

MAX_REFERENCE = 50
LOOKUP_SKEW = timedelta(minutes=5)
"""PayTrace's clock and payledger's may disagree this much."""
"""PayTrace's limit for ``invoice_id`` and ``customer_reference_id`` (v3 documents 50)."""


def _address(name: str, address: Address) -> PayTraceAddress:
    lines = list(address.lines)
    return PayTraceAddress(
        name=name[:50] or None,
        street_address=lines[0] if lines else None,
        street_address2=", ".join(lines[1:]) or None,
        city=address.city or None,
        state=address.state or None,
        zip=address.postal_code or None,
        country=address.country.upper() or None,
    )


def sale_details(shop: ShopOrder) -> PayTraceSaleDetails:
    order = shop.order
    customer = order.customer
    return PayTraceSaleDetails(
        invoice_id=order.reference[:MAX_REFERENCE],
        customer_reference_id=order.reference[:MAX_REFERENCE],
        description=f"Shop order {order.reference}"[:255],
        email=customer.email or None,
        tax_amount=shop.tax.amount if shop.tax.is_positive else None,
        billing_address=_address(customer.name, customer.billing_address),
        shipping_address=_address(customer.name, order.delivery_address)
        if order.delivery_address
        else None,
    )


class PayTraceOrderGateway:
    """Implements ``flows.ports.OrderGateway`` with a :class:`PayTraceClient`."""

    source_name = "paytrace"

    def __init__(self, client: PayTraceClient) -> None:
        self.client = client

    async def charge_order(
        self, order: ShopOrder, card: CardSource, *, capture: bool
    ) -> PaymentObserved:
        amount, details = order.total.amount, sale_details(order)
        result = await self._send(amount, card, details, capture=capture)
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
            order_ref=details.customer_reference_id or "",
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
            if record.invoice_id == reference
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

    async def _send(
        self, amount: Decimal, card: CardSource, details: PayTraceSaleDetails, *, capture: bool
    ) -> PayTraceTransactionResult:
        client = self.client
        if isinstance(card, StoredCard):
            by_customer = client.sale_by_customer if capture else client.authorize_by_customer
            return await by_customer(amount, card.customer_id, details=details)
        if isinstance(card, ProtectCard):
            nonce = PayTraceProtectNonce(hpf_token=card.hpf_token, enc_key=card.enc_key)
            protect = client.sale_protect if capture else client.authorize_protect
            return await protect(amount, nonce, details=details)
        assert isinstance(card, EncryptedCard)
        encrypted = PayTraceEncryptedCard(
            encrypted_number=card.encrypted_number,
            expiration_month=card.expiration_month,
            expiration_year=card.expiration_year,
        )
        keyed = client.sale_keyed if capture else client.authorize_keyed
        return await keyed(
            amount, encrypted, encrypted_csc=card.encrypted_csc or None, details=details
        )
