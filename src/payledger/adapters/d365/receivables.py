"""The ``Receivables`` port on D365 F&O: invoices, sales orders and cards on file.

F&O's invoice header has no open amount, so what is paid is read from the customer payment
journal lines that mark the invoice (``MarkedInvoice``), net of debits; an invoice of a sales
order whose payment status says it was paid (e.g. at checkout) counts that payment too.

The rows read stay with the receivable (``erp_rows``) and with this object, so the charge
request template's ``enrich`` rows (``d365_invoice``, ``d365_order``, ``d365_customer``) are
each read once per charge.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payledger.adapters.d365.ledger import D365Ledger
from payledger.adapters.d365.odata import ODataQuery
from payledger.adapters.d365.odata import field as odata_field
from payledger.domain.charges import CardOnFile, Receivable, ReceivableKind
from payledger.domain.money import Money

PAID_ORDER_STATUSES = frozenset({"paid", "authorized", "captured"})
"""Order payment statuses meaning the order's money is already taken or promised."""


@dataclass(frozen=True)
class ReceivableFields:
    """Extension fields the receivables are read with (empty: not present)."""

    customer_gateway_id: str = "PayTraceCustomerId"
    customer_auto_pay: str = "PayTraceAutoPay"
    order_payment_status: str = "PaymentStatus"
    order_payment_amount: str = "PaymentAmount"


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


class D365Receivables:
    """Implements ``flows.ports.Receivables`` in the ledger's company."""

    def __init__(self, ledger: D365Ledger, fields: ReceivableFields | None = None) -> None:
        self.ledger = ledger
        self.client = ledger.client
        self.company = ledger.settings.company
        self.sets = ledger.sets
        self.fields = fields or ReceivableFields()
        self._read: dict[tuple[str, str], dict[str, Any] | None] = {}
        """Rows read by this object: (enrichment name, key casefolded) -> row or None."""

    def _in_company(self, entity_set: str) -> ODataQuery:
        return ODataQuery(entity_set).where(odata_field("dataAreaId").eq(self.company))

    async def _row(self, need: str, key: str, query: ODataQuery) -> dict[str, Any] | None:
        if (need, key.casefold()) not in self._read:
            self._read[(need, key.casefold())] = await self.client.first(query)
        return self._read[(need, key.casefold())]

    async def _invoice_row(self, number: str) -> dict[str, Any] | None:
        query = self._in_company(self.sets.invoices).where(odata_field("InvoiceNumber").eq(number))
        return await self._row("d365_invoice", number, query)

    async def _customer_row(self, account: str) -> dict[str, Any] | None:
        return await self._row("d365_customer", account, self.ledger.keys.customer_account(account))

    async def erp_rows(
        self,
        needs: Collection[str],
        *,
        customer_account: str = "",
        sales_order_number: str = "",
        invoice_number: str = "",
    ) -> dict[str, Mapping[str, Any]]:
        readers = {
            "d365_customer": (customer_account, self._customer_row),
            "d365_order": (sales_order_number, self._order),
            "d365_invoice": (invoice_number, self._invoice_row),
        }
        rows: dict[str, Mapping[str, Any]] = {}
        for need in needs:
            key, read = readers.get(need, ("", None))
            row = await read(key) if key and read else None
            if row is not None:
                rows[need] = row
        return rows

    async def invoice(self, number: str) -> Receivable | None:
        row = await self._invoice_row(number)
        if row is None:
            return None
        currency = str(row["CurrencyCode"])
        order_number = str(row.get("SalesOrderNumber") or "")
        order_paid = await self._order_paid(order_number, currency) if order_number else None
        order_row = self._read.get(("d365_order", order_number.casefold()))
        return Receivable(
            kind=ReceivableKind.INVOICE,
            number=str(row["InvoiceNumber"]),
            customer_account=str(row["InvoiceCustomerAccountNumber"]),
            total=Money(_decimal(row["TotalInvoiceAmount"]), currency),
            paid_in_ledger=await self._paid_lines(str(row["InvoiceNumber"]), currency),
            sales_order_number=order_number,
            order_paid=order_paid,
            erp_rows={"d365_invoice": row, **({"d365_order": order_row} if order_row else {})},
        )

    async def _paid_lines(self, invoice: str, currency: str) -> dict[str, Money]:
        query = self._in_company(self.sets.payment_journal_lines).where(
            odata_field("MarkedInvoice").eq(invoice)
        )
        paid: dict[str, Money] = {}
        async for line in self.client.iterate(query):
            if line.get("CurrencyCode") and line["CurrencyCode"] != currency:
                continue
            key = str(line.get("PaymentId") or "") or (
                f"line:{line.get('JournalBatchNumber')}:{line.get('LineNumber')}"
            )
            net = _decimal(line.get("CreditAmount")) - _decimal(line.get("DebitAmount"))
            paid[key] = paid.get(key, Money.zero(currency)) + Money(net, currency)
        return paid

    async def _order(self, number: str) -> dict[str, Any] | None:
        query = self._in_company(self.sets.sales_orders).where(
            odata_field("SalesOrderNumber").eq(number)
        )
        return await self._row("d365_order", number, query)

    async def _order_paid(self, number: str, currency: str) -> Money | None:
        order = await self._order(number) if self.fields.order_payment_status else None
        return self._paid_by_status(order, currency) if order else None

    def _paid_by_status(self, order: dict[str, Any], currency: str) -> Money | None:
        status_field, amount_field = (
            self.fields.order_payment_status,
            self.fields.order_payment_amount,
        )
        status = str(order.get(status_field) or "") if status_field else ""
        if status.casefold() not in PAID_ORDER_STATUSES:
            return None
        amount = _decimal(order.get(amount_field)) if amount_field else Decimal(0)
        return Money(amount or _decimal(order.get("OrderTotalAmount")), currency)

    async def sales_order(self, number: str) -> Receivable | None:
        order = await self._order(number)
        if order is None:
            return None
        account = order.get("InvoiceCustomerAccountNumber") or order.get(
            "OrderingCustomerAccountNumber"
        )
        return Receivable(
            kind=ReceivableKind.SALES_ORDER,
            number=str(order["SalesOrderNumber"]),
            customer_account=str(account or ""),
            total=Money(_decimal(order.get("OrderTotalAmount")), str(order["CurrencyCode"])),
            sales_order_number=str(order["SalesOrderNumber"]),
            order_paid=self._paid_by_status(order, str(order["CurrencyCode"])),
            erp_rows={"d365_order": order},
        )

    async def card_on_file(self, customer_account: str) -> CardOnFile | None:
        row = await self._customer_row(customer_account)
        id_field, auto_field = self.fields.customer_gateway_id, self.fields.customer_auto_pay
        if row is None or not id_field:
            return None
        gateway_id = str(row.get(id_field) or "")
        if not gateway_id:
            return None
        auto_pay = bool(auto_field) and str(row.get(auto_field) or "") == "Yes"
        return CardOnFile(gateway_customer_id=gateway_id, auto_pay=auto_pay)
