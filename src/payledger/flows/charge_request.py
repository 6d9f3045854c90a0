"""The gateway request of every charge payledger makes, mapped by the charge request template.

An invoice or sales order charged through the payments API or by auto-pay, and a shop order,
all build their request here: the ``paytrace_transaction_request`` template maps the source
document (the invoice, the order, the customer, the ERP rows it declares under ``needs`` and
the amount in ``context``) to the gateway's business fields, and the gateway adds only the
payment method. Nothing is sent when the mapped amount is not the amount charged, or when a
mapped value holds card data (an ERP field can hold anything).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from payledger.domain.card_data import find_card_data
from payledger.domain.charges import CardSource, Receivable, ReceivableKind, StoredCard
from payledger.domain.errors import ConnectorError, MappingError
from payledger.domain.model import Customer, Invoice, Order
from payledger.domain.money import Money
from payledger.domain.shop_orders import ShopOrder
from payledger.flows.ports import ErpRows
from payledger.mapping import CompiledTemplate, source_document


class ChargeRequestRefused(MappingError):
    """The mapped request may not be sent: its amount is not the one charged, or a field holds
    card data. Nothing was sent to the gateway."""


@dataclass(frozen=True)
class ChargeRequests:
    """Builds charge requests with ``template``, reading the ERP rows it needs from ``rows``."""

    template: CompiledTemplate
    rows: ErpRows

    async def for_receivable(
        self, receivable: Receivable, amount: Money, card: CardSource
    ) -> dict[str, Any]:
        """The request charging ``amount`` of an invoice or sales order; the ERP rows read
        with ``receivable`` are used as they are, the others are read once."""
        invoice_number = receivable.number if receivable.kind is ReceivableKind.INVOICE else ""
        known = {n: row for n, row in receivable.erp_rows.items() if n in self.template.needs}
        missing = [need for need in self.template.needs if need not in known]
        fetched = await self.rows.erp_rows(
            missing,
            customer_account=receivable.customer_account,
            sales_order_number=receivable.sales_order_number,
            invoice_number=invoice_number,
        )
        customer = _with_card(Customer(name="", account=receivable.customer_account), card)
        invoice = (
            Invoice(
                invoice_number,
                receivable.customer_account,
                receivable.total,
                amount,
                order_number=receivable.sales_order_number,
            )
            if invoice_number
            else None
        )
        order = (
            Order("", customer, (), receivable.total.currency, receivable.sales_order_number)
            if receivable.sales_order_number
            else None
        )
        document = source_document(
            customer=customer,
            invoice=invoice,
            order=order,
            context={"amount": amount.amount},
            enrich={**known, **fetched},
        )
        return self._checked(document, amount)

    async def for_shop_order(
        self, shop: ShopOrder, card: CardSource, *, wait: float
    ) -> dict[str, Any]:
        """The request charging a shop order's total. The ERP customer the shop names is read
        for at most ``wait`` seconds: a shop order is charged even while the ERP is down or
        slow, its request then without the ERP's rows."""
        customer = _with_card(shop.order.customer, card)
        enrich: Mapping[str, Mapping[str, Any]] = {}
        if customer.account and self.template.needs:
            try:
                enrich = await asyncio.wait_for(
                    self.rows.erp_rows(self.template.needs, customer_account=customer.account),
                    wait,
                )
            except (TimeoutError, ConnectorError):
                enrich = {}
        context: dict[str, Any] = {"amount": shop.total.amount}
        if shop.tax.is_positive:
            context["tax_amount"] = shop.tax.amount
        order = replace(shop.order, customer=customer)
        document = source_document(order=order, customer=customer, context=context, enrich=enrich)
        return self._checked(document, shop.total)

    def _checked(self, document: Mapping[str, Any], amount: Money) -> dict[str, Any]:
        request = self.template.map(document)
        mapped = request.get("amount")
        if mapped != amount.amount:
            raise ChargeRequestRefused(
                f"template {self.template.name} maps the amount to {mapped}, but "
                f"{amount} is charged; nothing was sent"
            )
        leaks = find_card_data(request, path="request")
        if leaks:
            raise ChargeRequestRefused(
                f"template {self.template.name}: {', '.join(leaks)} would carry what looks like "
                "card data to the gateway; nothing was sent (fix the ERP field or the template)"
            )
        return request


def _with_card(customer: Customer, card: CardSource) -> Customer:
    """A card on file names the gateway customer being charged."""
    if isinstance(card, StoredCard):
        return replace(customer, gateway_customer_id=card.customer_id)
    return customer
