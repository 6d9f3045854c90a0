"""Customer payment and general journals: headers, lines, fees, settlements and posting.

Lines belong to an existing, unposted header; once ``IsPosted`` is ``Yes`` the journal and
everything in it is immutable. Posting checks that the journal balances (lines with an offset
account balance themselves; the others must net to zero) and marks the header posted.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.errors import WriteFailed
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
from payledger.sandbox.d365.rules_sales import customer_name, find_customer
from payledger.sandbox.d365.settlement import post_payment_lines

HEADER_OF = {
    "CustomerPaymentJournalLines": "CustomerPaymentJournalHeaders",
    "LedgerJournalLines": "LedgerJournalHeaders",
}
JOURNAL_TYPE = {
    "CustomerPaymentJournalHeaders": ("CustPayment", "Customer payment"),
    "LedgerJournalHeaders": ("Daily", "Daily"),
}


def posted_error(ctx: WriteContext, entity: EntityType, batch: str) -> Exception:
    return ctx.fail(entity, f"Error: Journal {batch} is posted and can't be changed.")


class JournalHeaderRules(EntityRules):
    number_fields = {"JournalBatchNumber": ("JournalBatch", "{n:05d}")}

    def __init__(self, lines_set: str) -> None:
        self.lines_set = lines_set

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        name = values.get("JournalName", "")
        if not name:
            raise ctx.fail(entity, *must_be_filled(entity, "JournalName", "Name"))
        journal_name = ctx.state.reference.journal_name(name)
        if journal_name is None:
            raise ctx.fail(
                entity, *lookup_failed(entity, "JournalName", name, "Name", "Journal names")
            )
        wanted, label = JOURNAL_TYPE[entity.set_name]
        if journal_name.journal_type != wanted:
            raise ctx.fail(entity, f"Error: Journal name {name} is not of type {label}.")
        values["JournalName"] = journal_name.name
        values.setdefault("Description", journal_name.description)
        values["IsPosted"] = "No"
        if "PostingLayer" in entity.properties:
            values.setdefault("PostingLayer", "Current")
            values["AccountingCurrency"] = ctx.state.reference.accounting_currency

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        if old.get("IsPosted") == "Yes":
            raise posted_error(ctx, entity, old["JournalBatchNumber"])
        new["IsPosted"] = old.get("IsPosted", "No")
        new["JournalName"] = old["JournalName"]

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        if values.get("IsPosted") == "Yes":
            raise posted_error(ctx, entity, values["JournalBatchNumber"])

    def after_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        batch, company = values["JournalBatchNumber"], values["dataAreaId"]
        delete_where(ctx, self.lines_set, dataAreaId=company, JournalBatchNumber=batch)
        if self.lines_set == "CustomerPaymentJournalLines":
            delete_where(
                ctx,
                "CustomerPaymentJournalFees",
                dataAreaId=company,
                SourceJournalBatchNumber=batch,
            )
            delete_where(
                ctx,
                "PaymentJournalLineSettledInvoices",
                JournalLineCompany=company,
                JournalBatchNumber=batch,
            )

    def computed(self, ctx: WriteContext, entity: EntityType, values: Row) -> dict[str, Any]:
        if "JournalTotalDebit" not in entity.properties:
            return {}
        lines = journal_lines(
            ctx, self.lines_set, values["dataAreaId"], values["JournalBatchNumber"]
        )
        return {
            "JournalTotalDebit": sum((v.get("DebitAmount", 0) for v in lines), Decimal(0)),
            "JournalTotalCredit": sum((v.get("CreditAmount", 0) for v in lines), Decimal(0)),
        }


def journal_lines(ctx: WriteContext, lines_set: str, company: str, batch: str) -> list[Row]:
    return [
        r.values
        for r in records_where(ctx, lines_set, dataAreaId=company, JournalBatchNumber=batch)
    ]


def open_header(
    ctx: WriteContext, entity: EntityType, header_set: str, company: str, batch: str
) -> dict[str, Any]:
    """The unposted header a line is written under; refuse missing or posted journals."""
    header = ctx.find(header_set, dataAreaId=company, JournalBatchNumber=batch)
    if header is None:
        raise ctx.fail(
            entity,
            *lookup_failed(entity, "JournalBatchNumber", batch, "Journal batch number", "Journal"),
        )
    if header.get("IsPosted") == "Yes":
        raise posted_error(ctx, entity, batch)
    return header


class JournalLineRules(EntityRules):
    """Lines of payment and general journals (field names differ slightly between the two)."""

    def __init__(self, date_field: str, rate_field: str, default_account_type: str) -> None:
        self.date_field = date_field
        self.rate_field = rate_field
        self.default_account_type = default_account_type

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        company, batch = values["dataAreaId"], values.get("JournalBatchNumber", "")
        header = open_header(ctx, entity, HEADER_OF[entity.set_name], company, batch)
        journal_name = ctx.state.reference.journal_name(header["JournalName"])
        if "LineNumber" not in values:
            siblings = journal_lines(ctx, entity.set_name, company, batch)
            values["LineNumber"] = max((v["LineNumber"] for v in siblings), default=0) + 1
        if not values.get("Voucher") and journal_name:
            sequence = ctx.store.next_number(f"Voucher:{journal_name.voucher_prefix}")
            values["Voucher"] = f"{journal_name.voucher_prefix}{sequence:06d}"
        values.setdefault(self.date_field, ctx.state.clock.now().date())
        values.setdefault(self.rate_field, Decimal(100))
        values.setdefault("AccountType", self.default_account_type)
        values.setdefault("OffsetAccountType", "Ledger")
        values.setdefault("Company", company.upper())
        values.setdefault("OffsetCompany", company.upper())
        values.setdefault("PostingProfile", "GEN")
        self._validate(ctx, entity, values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        open_header(
            ctx, entity, HEADER_OF[entity.set_name], old["dataAreaId"], old["JournalBatchNumber"]
        )
        self._validate(ctx, entity, new)

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        open_header(
            ctx,
            entity,
            HEADER_OF[entity.set_name],
            values["dataAreaId"],
            values["JournalBatchNumber"],
        )

    def _validate(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        if not values.get("AccountDisplayValue"):
            raise ctx.fail(entity, *must_be_filled(entity, "AccountDisplayValue", "Account"))
        if values.get("CreditAmount") and values.get("DebitAmount"):
            raise ctx.fail(
                entity, "Error: Enter either a debit or a credit amount on a line, not both."
            )
        customer = self._check_account(
            ctx, entity, values, "AccountType", "AccountDisplayValue", "Account"
        )
        self._check_account(
            ctx, entity, values, "OffsetAccountType", "OffsetAccountDisplayValue", "Offset account"
        )
        currency = values.get("CurrencyCode") or (
            customer.get("SalesCurrencyCode") if customer else ""
        )
        values["CurrencyCode"] = currency or ctx.state.reference.accounting_currency
        if values["CurrencyCode"].upper() not in ctx.state.reference.currencies:
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity, "CurrencyCode", values["CurrencyCode"], "Currency", "Currencies"
                ),
            )
        if customer is not None and "CustomerName" in entity.properties:
            values["CustomerName"] = customer_name(customer)
        if "PaymentMethodName" in entity.properties:
            self._check_payment(ctx, entity, values, customer)

    def _check_account(
        self,
        ctx: WriteContext,
        entity: EntityType,
        values: Row,
        type_field: str,
        field: str,
        label: str,
    ) -> dict[str, Any] | None:
        display_value = values.get(field, "")
        if not display_value:
            return None
        account = split_display_value(display_value)[0]
        account_type = values.get(type_field)
        company = values["dataAreaId"]
        ref = ctx.state.reference
        if account_type == "Cust":
            customer = find_customer(ctx, company, account)
            if customer is None:
                raise ctx.fail(entity, *lookup_failed(entity, field, account, label, "Customers"))
            return customer
        known = {"Bank": ref.bank_accounts, "Ledger": ref.main_accounts}.get(account_type or "")
        if known is not None and account.casefold() not in {k.casefold() for k in known}:
            table = "Bank accounts" if account_type == "Bank" else "Main accounts"
            raise ctx.fail(entity, *lookup_failed(entity, field, account, label, table))
        return None

    def _check_payment(
        self, ctx: WriteContext, entity: EntityType, values: Row, customer: Row | None
    ) -> None:
        company = values["dataAreaId"]
        method = values.get("PaymentMethodName")
        if method and not ctx.find("CustomerPaymentMethods", dataAreaId=company, Name=method):
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity, "PaymentMethodName", method, "Method of payment", "Methods of payment"
                ),
            )
        invoice = values.get("MarkedInvoice")
        if not invoice:
            return
        invoice_company = (values.get("MarkedInvoiceCompany") or company).lower()
        found = ctx.find("SalesInvoiceHeadersV2", dataAreaId=invoice_company, InvoiceNumber=invoice)
        if found is None or (
            customer
            and found["InvoiceCustomerAccountNumber"].casefold()
            != customer["CustomerAccount"].casefold()
        ):
            raise ctx.fail(
                entity,
                f"Error: Invoice {invoice} is not an open transaction of the customer on the line.",
            )
        values.setdefault("MarkedInvoiceCompany", invoice_company)
        if values.get("SettleVoucher", "None") == "None":
            values["SettleVoucher"] = "SelectedTransact"


class JournalChildRules(EntityRules):
    """Fees and settled invoices hang off a payment line of an unposted journal."""

    def __init__(self, company_field: str, batch_field: str, line_field: str) -> None:
        self.company_field = company_field
        self.batch_field = batch_field
        self.line_field = line_field

    def _line(self, ctx: WriteContext, entity: EntityType, values: Row) -> Row:
        company, batch = values[self.company_field], values.get(self.batch_field, "")
        open_header(ctx, entity, "CustomerPaymentJournalHeaders", company, batch)
        line = ctx.find(
            "CustomerPaymentJournalLines",
            dataAreaId=company,
            JournalBatchNumber=batch,
            LineNumber=values.get(self.line_field),
        )
        if line is None:
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity,
                    self.line_field,
                    values.get(self.line_field),
                    "Line number",
                    "Journal lines",
                ),
            )
        return line

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        line = self._line(ctx, entity, values)
        if "Amount" in entity.properties:
            values.setdefault("CurrencyCode", line.get("CurrencyCode", ""))
        if "InvoiceNumber" in entity.properties:
            invoice = ctx.find(
                "SalesInvoiceHeadersV2",
                dataAreaId=values.get("InvoiceCompany", "").lower(),
                InvoiceNumber=values.get("InvoiceNumber", ""),
            )
            if invoice is None:
                raise ctx.fail(
                    entity,
                    *lookup_failed(
                        entity,
                        "InvoiceNumber",
                        values.get("InvoiceNumber"),
                        "Invoice",
                        "Customer invoices",
                    ),
                )
            values.setdefault("invoiceAccount", invoice["InvoiceCustomerAccountNumber"])

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        self._line(ctx, entity, new)

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        self._line(ctx, entity, values)


def post_journal(ctx: WriteContext, entity: EntityType, header_key: Row) -> dict[str, Any]:
    """Post a journal, all or nothing: refuse it unless it exists unposted, has lines and
    balances; then give every line a voucher, turn customer lines into customer transactions
    (settling the invoices they mark) and mark the header posted. Returns what was posted:
    ``header``, ``lines`` and ``transactions`` (how many customer transactions were made)."""
    header_record = ctx.state.store.table(entity.set_name).get(header_key)
    if header_record is None:
        raise ctx.fail(entity, "Error: The journal does not exist.")
    header = header_record.values
    batch, company = header["JournalBatchNumber"], header["dataAreaId"]
    if header.get("IsPosted") == "Yes":
        raise ctx.fail(entity, f"Error: Journal {batch} is already posted.")
    lines_set = next(k for k, v in HEADER_OF.items() if v == entity.set_name)
    lines = journal_lines(ctx, lines_set, company, batch)
    if not lines:
        raise ctx.fail(entity, f"Error: Journal {batch} has no lines and cannot be posted.")
    _check_balance(ctx, entity, lines)
    snapshot = ctx.store.snapshot()
    try:
        lines = _assign_vouchers(ctx, lines_set, header, lines)
        made = post_payment_lines(ctx, entity, lines) if lines_set in PAYMENT_LINES else 0
    except WriteFailed:
        ctx.store.restore(snapshot)
        raise
    ctx.state.store.replace(entity.set_name, header_record, {**header, "IsPosted": "Yes"})
    ctx.state.posted_journals.append(
        {"entity_set": entity.set_name, "company": company, "batch": batch}
    )
    return {"header": header, "lines": len(lines), "transactions": made}


PAYMENT_LINES = {"CustomerPaymentJournalLines"}


def _assign_vouchers(ctx: WriteContext, lines_set: str, header: Row, lines: list[Row]) -> list[Row]:
    journal_name = ctx.state.reference.journal_name(header["JournalName"])
    prefix = journal_name.voucher_prefix if journal_name else "JRN"
    table = ctx.state.store.table(lines_set)
    done = []
    for values in lines:
        if not values.get("Voucher"):
            record = table.get(values)
            assert record is not None  # the line was just read from this table
            values = {
                **values,
                "Voucher": f"{prefix}{ctx.store.next_number(f'Voucher:{prefix}'):06d}",
            }
            ctx.store.replace(lines_set, record, values)
        done.append(values)
    return done


def _check_balance(ctx: WriteContext, entity: EntityType, lines: list[Row]) -> None:
    by_voucher: dict[str, Decimal] = {}
    dates: dict[str, date | None] = {}
    for line in lines:
        if line.get("OffsetAccountDisplayValue"):
            continue
        voucher = line.get("Voucher", "")
        amount = line.get("DebitAmount", Decimal(0)) - line.get("CreditAmount", Decimal(0))
        by_voucher[voucher] = by_voucher.get(voucher, Decimal(0)) + amount
        dates[voucher] = line.get("TransactionDate") or line.get("TransDate")
    total = sum(by_voucher.values(), Decimal(0))
    if total:
        voucher = next(v for v, amount in by_voucher.items() if amount)
        debit = sum((a for a in by_voucher.values() if a > 0), Decimal(0))
        credit = -sum((a for a in by_voucher.values() if a < 0), Decimal(0))
        when = dates.get(voucher)
        day = f"{when.month}/{when.day}/{when.year}" if when else ""
        raise ctx.fail(
            entity,
            f"Error: The transactions on voucher {voucher} do not balance as per {day}. "
            f"(accounting currency: {debit:.2f} - {credit:.2f})",
        )
