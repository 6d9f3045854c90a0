"""Free-text invoices: drafts written through OData, posted by a custom service operation.

A draft is a ``FreeTextInvoiceHeaders`` row (``IsPosted`` = ``No``) with its
``FreeTextInvoiceLines``; lines belong to an existing draft, and a posted invoice and its lines
are immutable. Posting (:func:`post_free_text_invoice`, all or nothing) refuses a missing,
posted or empty draft; otherwise it takes the next number of the sequence every posted invoice
uses, books the invoice where F&O's invoice journal shows it (``SalesInvoiceHeadersV2`` with an
empty ``SalesOrderNumber``: CustInvoiceJour holds free-text invoices too, UNCERTAIN for the
entity), opens its customer transaction and marks the draft posted with ``InvoiceId``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.events import due_date
from payledger.sandbox.d365.invoices import book_invoice, next_invoice_number
from payledger.sandbox.d365.rules import (
    EntityRules,
    Row,
    WriteContext,
    delete_where,
    lookup_failed,
    must_be_filled,
    records_where,
    split_display_value,
)
from payledger.sandbox.d365.rules_sales import find_customer

HEADERS = "FreeTextInvoiceHeaders"
LINES = "FreeTextInvoiceLines"


def _posted(ctx: WriteContext, entity: EntityType, identifier: str) -> Exception:
    return ctx.fail(
        entity, f"Error: Free text invoice {identifier} is posted and can't be changed."
    )


def _lines(ctx: WriteContext, company: str, identifier: str) -> list[Row]:
    found = records_where(ctx, LINES, dataAreaId=company, InvoiceIdentifier=identifier)
    return sorted((r.values for r in found), key=lambda v: v["LineNumber"])


class FreeTextHeaderRules(EntityRules):
    number_fields = {"InvoiceIdentifier": ("FreeTextInvoice", "FTI-{n:06d}")}

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        values["IsPosted"] = "No"
        values["InvoiceId"] = ""
        self._validate(ctx, entity, values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        if old.get("IsPosted") == "Yes":
            raise _posted(ctx, entity, old["InvoiceIdentifier"])
        new["IsPosted"], new["InvoiceId"] = "No", ""
        self._validate(ctx, entity, new)

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        if values.get("IsPosted") == "Yes":
            raise _posted(ctx, entity, values["InvoiceIdentifier"])

    def after_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        delete_where(
            ctx,
            LINES,
            dataAreaId=values["dataAreaId"],
            InvoiceIdentifier=values["InvoiceIdentifier"],
        )

    def _validate(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        account = values.get("CustomerAccount", "")
        if not account:
            raise ctx.fail(entity, *must_be_filled(entity, "CustomerAccount", "Customer account"))
        customer = find_customer(ctx, values["dataAreaId"], account)
        if customer is None:
            raise ctx.fail(
                entity,
                *lookup_failed(entity, "CustomerAccount", account, "Customer account", "Customers"),
            )
        values["CustomerAccount"] = customer["CustomerAccount"]
        values["InvoiceAccount"] = values.get("InvoiceAccount") or customer["CustomerAccount"]
        currency = values.get("CurrencyCode") or customer.get("SalesCurrencyCode", "")
        if currency.upper() not in ctx.state.reference.currencies:
            raise ctx.fail(
                entity, *lookup_failed(entity, "CurrencyCode", currency, "Currency", "Currencies")
            )
        values["CurrencyCode"] = currency.upper()
        values["TermsOfPayment"] = values.get("TermsOfPayment") or customer.get("PaymentTerms", "")
        invoice_date = values.get("InvoiceDate") or ctx.state.clock.now().date()
        values["InvoiceDate"] = invoice_date
        values["DocumentDate"] = values.get("DocumentDate") or invoice_date
        values["DueDate"] = values.get("DueDate") or due_date(
            invoice_date, values["TermsOfPayment"]
        )


def open_draft(ctx: WriteContext, entity: EntityType, company: str, identifier: str) -> Row:
    """The unposted draft a line is written under; refuse missing or posted ones."""
    header = ctx.find(HEADERS, dataAreaId=company, InvoiceIdentifier=identifier)
    if header is None:
        raise ctx.fail(
            entity,
            *lookup_failed(
                entity, "InvoiceIdentifier", identifier, "Invoice identifier", "Free text invoice"
            ),
        )
    if header.get("IsPosted") == "Yes":
        raise _posted(ctx, entity, identifier)
    return header


class FreeTextLineRules(EntityRules):
    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        company, identifier = values["dataAreaId"], values.get("InvoiceIdentifier", "")
        header = open_draft(ctx, entity, company, identifier)
        values["InvoiceIdentifier"] = header["InvoiceIdentifier"]
        if "LineNumber" not in values:
            siblings = _lines(ctx, company, header["InvoiceIdentifier"])
            values["LineNumber"] = max((v["LineNumber"] for v in siblings), default=0) + 1
        values.setdefault("Quantity", Decimal(1))
        values["CurrencyCode"] = header["CurrencyCode"]
        self._validate(ctx, entity, values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        open_draft(ctx, entity, old["dataAreaId"], old["InvoiceIdentifier"])
        self._validate(ctx, entity, new)

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        open_draft(ctx, entity, values["dataAreaId"], values["InvoiceIdentifier"])

    def _validate(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        ref = ctx.state.reference
        account, item_number = values.get("MainAccountDisplayValue", ""), values.get("ItemNumber")
        if not account and not item_number:
            raise ctx.fail(
                entity, *must_be_filled(entity, "MainAccountDisplayValue", "Main account")
            )
        if account:
            main = split_display_value(account)[0]
            if main.casefold() not in {a.casefold() for a in ref.main_accounts}:
                raise ctx.fail(
                    entity,
                    *lookup_failed(
                        entity, "MainAccountDisplayValue", main, "Main account", "Main accounts"
                    ),
                )
        if item_number:
            item = ref.items.get(item_number.upper())
            if item is None:
                raise ctx.fail(
                    entity,
                    *lookup_failed(
                        entity, "ItemNumber", item_number, "Item number", "Released products"
                    ),
                )
            values["Description"] = values.get("Description") or item.name
        values["TransactionCurrencyAmount"] = values.get("Quantity", Decimal(0)) * values.get(
            "UnitPrice", Decimal(0)
        )


def post_free_text_invoice(ctx: WriteContext, entity: EntityType, identifier: str) -> Row:
    """Post a draft, all or nothing; returns the posted invoice's ``SalesInvoiceHeadersV2`` row."""
    record = ctx.state.store.table(HEADERS).get(
        {"dataAreaId": ctx.company, "InvoiceIdentifier": identifier}
    )
    if record is None:
        raise ctx.fail(entity, f"Error: Free text invoice {identifier} does not exist.")
    draft = record.values
    if draft.get("IsPosted") == "Yes":
        raise ctx.fail(
            entity,
            f"Error: Free text invoice {identifier} is already posted as {draft['InvoiceId']}.",
        )
    lines = _lines(ctx, ctx.company, draft["InvoiceIdentifier"])
    if not lines:
        raise ctx.fail(
            entity, f"Error: Free text invoice {identifier} has no lines and cannot be posted."
        )
    number, voucher = next_invoice_number(ctx)
    customer = find_customer(ctx, ctx.company, draft["InvoiceAccount"]) or {}
    total = sum((line["TransactionCurrencyAmount"] for line in lines), Decimal(0))
    header = _posted_header(draft, customer, number, voucher, total)
    book_invoice(ctx, header, [_posted_line(header, line) for line in lines])
    ctx.state.store.replace(HEADERS, record, {**draft, "IsPosted": "Yes", "InvoiceId": number})
    return header


def _posted_header(
    draft: Row, customer: Row, number: str, voucher: str, total: Decimal
) -> dict[str, Any]:
    return {
        "dataAreaId": draft["dataAreaId"],
        "InvoiceNumber": number,
        "InvoiceDate": draft["InvoiceDate"],
        "LedgerVoucher": voucher,
        "InvoiceCustomerAccountNumber": draft["InvoiceAccount"],
        "SalesOrderNumber": "",
        "CustomersOrderReference": draft.get("CustomerReference", ""),
        "CurrencyCode": draft["CurrencyCode"],
        "TotalInvoiceAmount": total,
        "TotalTaxAmount": Decimal(0),
        "InvoiceHeaderTaxAmount": Decimal(0),
        "PaymentTermsName": draft.get("TermsOfPayment", ""),
        "InvoiceAddressStreet": customer.get("AddressStreet", ""),
        "InvoiceAddressCity": customer.get("AddressCity", ""),
        "InvoiceAddressState": customer.get("AddressState", ""),
        "InvoiceAddressZipCode": customer.get("AddressZipCode", ""),
        "InvoiceAddressCountryRegionId": customer.get("AddressCountryRegionId", ""),
    }


def _posted_line(header: Row, line: Row) -> dict[str, Any]:
    return {
        "dataAreaId": header["dataAreaId"],
        "InvoiceNumber": header["InvoiceNumber"],
        "InvoiceDate": header["InvoiceDate"],
        "LineCreationSequenceNumber": int(line["LineNumber"]),
        "ProductNumber": line.get("ItemNumber", ""),
        "ProductName": line.get("Description", ""),
        "InvoicedQuantity": line["Quantity"],
        "SalesPrice": line["UnitPrice"],
        "LineAmount": line["TransactionCurrencyAmount"],
        "CurrencyCode": header["CurrencyCode"],
    }
