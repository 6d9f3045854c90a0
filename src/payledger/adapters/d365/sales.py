"""Order to cash's ``SalesDesk`` port on F&O: customers, sales order headers and lines.

Every create is found again by a natural key before it is retried after a lost answer
(customers by e-mail address, orders by ``CustomersOrderReference``, lines by order number and
line number), so a retried job never creates anything twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payledger.adapters.d365.batch import BatchRequest
from payledger.adapters.d365.client import D365Client
from payledger.adapters.d365.customers import D365CustomerDirectory
from payledger.adapters.d365.errors import SYSTEM
from payledger.adapters.d365.odata import ODataQuery
from payledger.adapters.d365.odata import field as odata_field
from payledger.domain.errors import RejectedError
from payledger.flows.ports import ErpCustomer, ErpOrder


@dataclass(frozen=True)
class OrderFields:
    """Entity sets and the payment extension fields on sales order headers."""

    sales_orders: str = "SalesOrderHeadersV2"
    sales_order_lines: str = "SalesOrderLines"
    payment_fields: tuple[str, ...] = (
        "PaymentStatus",
        "PaymentAuthId",
        "PaymentAmount",
        "PaymentMessage",
    )


class D365SalesDesk:
    """Implements ``flows.ports.SalesDesk``."""

    def __init__(self, customers: D365CustomerDirectory, fields: OrderFields | None = None) -> None:
        self.customers = customers
        self.client: D365Client = customers.client
        self.company = customers.company
        self.fields = fields or OrderFields()

    def _in_company(self, entity_set: str) -> ODataQuery:
        return ODataQuery(entity_set).where(odata_field("dataAreaId").eq(self.company))

    async def customer(self, account: str) -> ErpCustomer | None:
        return await self.customers.customer(account)

    async def customer_with_gateway_id(self, gateway_id: str) -> ErpCustomer | None:
        return await self.customers.customer_with_gateway_id(gateway_id)

    async def customer_with_email(self, email: str) -> ErpCustomer | None:
        row = await self.client.first(self._by_email(email))
        return self.customers.translate(row) if row else None

    def _by_email(self, email: str) -> ODataQuery:
        return self._in_company(self.customers.entity_set).where(
            odata_field("PrimaryContactEmail").eq(email)
        )

    async def create_customer(self, record: Mapping[str, Any], *, email: str) -> str:
        created = await self.client.create_once(
            self.customers.entity_set, record, self._by_email(email)
        )
        return str(created["CustomerAccount"])

    async def set_gateway_id(self, account: str, gateway_id: str) -> None:
        if self.customers.fields.gateway_id:
            await self.customers.update_customer(
                account, {self.customers.fields.gateway_id: gateway_id}
            )

    def _by_reference(self, reference: str) -> ODataQuery:
        return self._in_company(self.fields.sales_orders).where(
            odata_field("CustomersOrderReference").eq(reference)
        )

    async def order(self, reference: str) -> ErpOrder | None:
        header = await self.client.first(self._by_reference(reference))
        if header is None:
            return None
        number = str(header["SalesOrderNumber"])
        lines = self._in_company(self.fields.sales_order_lines).where(
            odata_field("SalesOrderNumber").eq(number)
        )
        numbers = [
            row["LineNumber"] async for row in self.client.iterate(lines.select("LineNumber"))
        ]
        return ErpOrder(
            number=number,
            customer_account=str(header.get("OrderingCustomerAccountNumber", "")),
            line_numbers=frozenset(int(Decimal(str(n))) for n in numbers),
        )

    async def create_order(self, header: Mapping[str, Any]) -> str:
        reference = str(header["CustomersOrderReference"])
        created = await self.client.create_once(
            self.fields.sales_orders, header, self._by_reference(reference)
        )
        return str(created["SalesOrderNumber"])

    async def add_order_lines(self, lines: Sequence[Mapping[str, Any]]) -> None:
        batch = BatchRequest()
        changeset = batch.changeset()
        for line in lines:
            changeset.post(self.fields.sales_order_lines, dict(line))
        outcome = (await self.client.batch(batch)).changesets[0]
        if not outcome.ok:
            failure = outcome.failure
            raise RejectedError(
                f"D365 refused the order lines: {failure.error.text if failure else 'no answer'}",
                system=SYSTEM,
                operation="add order lines",
                status=failure.status if failure else None,
            )

    async def update_order_payment(self, number: str, header: Mapping[str, Any]) -> None:
        changes = {k: v for k, v in header.items() if k in self.fields.payment_fields and k}
        if changes:
            key = {"dataAreaId": self.company, "SalesOrderNumber": number}
            await self.client.update(self.fields.sales_orders, key, changes)
