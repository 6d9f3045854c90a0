"""Posted sales invoices, created the way F&O creates them: by invoicing inside the ERP.

Invoice entities are read-only over OData; the control API (and the demo seed) create them here,
optionally invoicing an open sales order, and the caller may then emit a business event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from payledger.sandbox.d365.rules import WriteContext
from payledger.sandbox.d365.rules_sales import find_customer
from payledger.sandbox.d365.settlement import open_invoice


class InvoiceError(ValueError):
    """The control API was asked for an invoice that cannot exist."""


@dataclass
class InvoiceRequest:
    company: str
    customer_account: str
    amount: Decimal | None = None
    tax_amount: Decimal = Decimal(0)
    sales_order_number: str = ""
    customers_order_reference: str = ""
    invoice_date: date | None = None


def _order_total(ctx: WriteContext, company: str, order_number: str) -> Decimal:
    lines = [
        v
        for v in ctx.rows("SalesOrderLines")
        if v["dataAreaId"] == company
        and v["SalesOrderNumber"].casefold() == order_number.casefold()
    ]
    return sum((v["LineAmount"] for v in lines), Decimal(0))


def _invoice_order(ctx: WriteContext, request: InvoiceRequest) -> dict[str, Any] | None:
    if not request.sales_order_number:
        return None
    table = ctx.state.store.table("SalesOrderHeadersV2")
    record = table.get(
        {"dataAreaId": request.company, "SalesOrderNumber": request.sales_order_number}
    )
    if record is None:
        raise InvoiceError(f"sales order {request.sales_order_number} does not exist")
    if record.values.get("SalesOrderStatus") == "Invoiced":
        raise InvoiceError(f"sales order {request.sales_order_number} is already invoiced")
    ctx.state.store.replace(
        "SalesOrderHeadersV2",
        record,
        {**record.values, "SalesOrderStatus": "Invoiced", "SalesOrderProcessingStatus": "Invoiced"},
    )
    for line in ctx.state.store.table("SalesOrderLines"):
        values = line.values
        if (
            values["dataAreaId"] == request.company
            and values["SalesOrderNumber"] == record.values["SalesOrderNumber"]
        ):
            ctx.state.store.replace(
                "SalesOrderLines", line, {**values, "SalesOrderLineStatus": "Invoiced"}
            )
    return record.values


def _header(
    ctx: WriteContext,
    request: InvoiceRequest,
    customer: dict[str, Any],
    order: dict[str, Any] | None,
    amount: Decimal,
) -> dict[str, Any]:
    number, voucher = next_invoice_number(ctx)
    return {
        "dataAreaId": request.company,
        "InvoiceNumber": number,
        "InvoiceDate": request.invoice_date or ctx.state.clock.now().date(),
        "LedgerVoucher": voucher,
        "InvoiceCustomerAccountNumber": customer["CustomerAccount"],
        "SalesOrderNumber": order["SalesOrderNumber"] if order else "",
        "CustomersOrderReference": request.customers_order_reference
        or (order or {}).get("CustomersOrderReference", ""),
        "CurrencyCode": (order or customer).get("CurrencyCode") or customer["SalesCurrencyCode"],
        "TotalInvoiceAmount": amount + request.tax_amount,
        "TotalTaxAmount": request.tax_amount,
        "InvoiceHeaderTaxAmount": request.tax_amount,
        "PaymentTermsName": customer.get("PaymentTerms", ""),
        "InvoiceAddressStreet": customer.get("AddressStreet", ""),
        "InvoiceAddressCity": customer.get("AddressCity", ""),
        "InvoiceAddressState": customer.get("AddressState", ""),
        "InvoiceAddressZipCode": customer.get("AddressZipCode", ""),
        "InvoiceAddressCountryRegionId": customer.get("AddressCountryRegionId", ""),
    }


def post_invoice(ctx: WriteContext, request: InvoiceRequest) -> dict[str, Any]:
    """Create a posted invoice (V2 and V1 headers, one line, its open customer transaction);
    returns the V2 header."""
    request.company = request.company.lower()
    customer = find_customer(ctx, request.company, request.customer_account)
    if customer is None:
        raise InvoiceError(
            f"customer {request.customer_account} does not exist in {request.company}"
        )
    order = _invoice_order(ctx, request)
    amount = request.amount
    if amount is None:
        amount = (
            _order_total(ctx, request.company, request.sales_order_number) if order else Decimal(0)
        )
    header = _header(ctx, request, customer, order, amount)
    line = {
        "dataAreaId": request.company,
        "InvoiceNumber": header["InvoiceNumber"],
        "InvoiceDate": header["InvoiceDate"],
        "LineCreationSequenceNumber": 1,
        "ProductName": "Invoiced goods",
        "InvoicedQuantity": Decimal(1),
        "SalesPrice": amount,
        "LineAmount": amount,
        "LineTotalTaxAmount": request.tax_amount,
        "CurrencyCode": header["CurrencyCode"],
    }
    book_invoice(ctx, header, [line])
    return header


def next_invoice_number(ctx: WriteContext) -> tuple[str, str]:
    """The next posted invoice's number and voucher (one sequence for every invoice)."""
    number = ctx.state.store.next_number("Invoice")
    return f"CIV-{number:06d}", f"ARI-{number:06d}"


def book_invoice(ctx: WriteContext, header: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """Store a posted invoice as F&O's invoice journal shows it: the V2 and V1 headers, its
    lines and the open customer transaction it leaves."""
    store = ctx.state.store
    store.insert("SalesInvoiceHeadersV2", header)
    store.insert("SalesInvoiceHeaders", {k: v for k, v in header.items() if k != "LedgerVoucher"})
    for line in lines:
        store.insert("SalesInvoiceLines", line)
    open_invoice(ctx, header)
