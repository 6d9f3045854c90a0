"""D365 <-> canonical model: names, money, and F&O's date conventions.

Date-only X++ fields travel as ``YYYY-MM-DDT12:00:00Z`` (midday UTC, so no time zone moves the
day) and ``1900-01-01`` means empty; business-event dates are ``/Date(milliseconds)/``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

from payledger.adapters.d365.odata import escape_display_value, unescape_display_value
from payledger.adapters.d365.schemas import (
    D365Customer,
    D365PaymentJournalLine,
    D365SalesInvoiceHeader,
    D365SalesInvoicePostedEvent,
    D365SalesOrderHeader,
    D365SalesOrderLine,
)
from payledger.domain.model import Address, Customer, Invoice, Order, OrderLine, Payment, aware_utc
from payledger.domain.money import Money

EMPTY_YEAR = 1900
_MS_DATE = re.compile(r"/Date\((-?\d+)\)/")


def to_d365_date(day: date) -> datetime:
    """A date-only value as F&O stores it: midday UTC of that day."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def from_d365_date(value: datetime | str | None) -> date | None:
    """The calendar day of a date-only field; None for F&O's empty ``1900-01-01``."""
    if value is None or value == "":
        return None
    moment = (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(value.replace("Z", "+00:00"))
    )
    return None if moment.year <= EMPTY_YEAR else moment.astimezone(UTC).date()


def from_d365_instant(value: datetime | str | None) -> datetime | None:
    """A UTC date-time field; None for F&O's empty ``1900-01-01T00:00:00Z``."""
    if value is None or value == "":
        return None
    moment = (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(value.replace("Z", "+00:00"))
    )
    return None if moment.year <= EMPTY_YEAR else aware_utc(moment)


def from_event_date(value: str) -> datetime | None:
    """``/Date(1741132800000)/`` -> an aware UTC datetime."""
    match = _MS_DATE.fullmatch(value.strip())
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC) if match else None


def customer_account_display_value(account: str) -> str:
    """The ``AccountDisplayValue`` of a customer account (delimiters escaped)."""
    return escape_display_value(account)


def customer_from_d365(row: D365Customer, *, gateway_id_field: str | None = None) -> Customer:
    name = row.OrganizationName or " ".join(
        p for p in (row.PersonFirstName, row.PersonLastName) if p
    )
    gateway_id = str(getattr(row, gateway_id_field, "") or "") if gateway_id_field else ""
    return Customer(
        name=name,
        account=row.CustomerAccount,
        gateway_customer_id=gateway_id,
        email=row.PrimaryContactEmail,
        phone=row.PrimaryContactPhone,
        billing_address=Address(
            lines=(row.AddressStreet,) if row.AddressStreet else (),
            city=row.AddressCity,
            state=row.AddressState,
            postal_code=row.AddressZipCode,
            country=row.AddressCountryRegionISOCode or row.AddressCountryRegionId,
        ),
        is_organization=row.PartyType != "Person",
    )


def customer_to_d365(
    customer: Customer,
    *,
    company: str,
    customer_group: str,
    currency: str,
    gateway_id_field: str | None = None,
) -> D365Customer:
    """A ``CustomersV3`` body; ``gateway_id_field`` names the extension field for the vault id."""
    values: dict[str, object] = {
        "dataAreaId": company,
        "CustomerGroupId": customer_group,
        "SalesCurrencyCode": currency,
        "PartyType": "Organization" if customer.is_organization else "Person",
    }
    if customer.account:
        values["CustomerAccount"] = customer.account
    if customer.is_organization:
        values["OrganizationName"] = customer.name
    else:
        first, _, last = customer.name.rpartition(" ")
        values.update(PersonFirstName=first or last, PersonLastName=last if first else "")
    optional = {
        "PrimaryContactEmail": customer.email,
        "PrimaryContactPhone": customer.phone,
        "AddressStreet": "\n".join(customer.billing_address.lines),
        "AddressCity": customer.billing_address.city,
        "AddressState": customer.billing_address.state,
        "AddressZipCode": customer.billing_address.postal_code,
    }
    values.update({k: v for k, v in optional.items() if v})
    if gateway_id_field and customer.gateway_customer_id:
        values[gateway_id_field] = customer.gateway_customer_id
    return D365Customer.model_validate(values)


def invoice_from_d365(
    row: D365SalesInvoiceHeader, *, open_amount: Decimal | None = None
) -> Invoice:
    """An invoice; F&O's invoice header has no open amount, so it defaults to the total."""
    total = Money(row.TotalInvoiceAmount, row.CurrencyCode)
    return Invoice(
        number=row.InvoiceNumber,
        customer_account=row.InvoiceCustomerAccountNumber,
        amount=total,
        open_amount=total if open_amount is None else Money(open_amount, row.CurrencyCode),
        order_number=row.SalesOrderNumber,
    )


def invoice_from_event(event: D365SalesInvoicePostedEvent, currency: str) -> Invoice:
    """The invoice a ``SalesInvoicePostedBusinessEvent`` announces (currency from config)."""
    due = from_event_date(event.InvoiceDueDate)
    amount = Money(event.InvoiceAmountInAccountingCurrency, currency)
    return Invoice(
        number=event.InvoiceId,
        customer_account=event.InvoiceAccount,
        amount=amount,
        open_amount=amount,
        due=due.date() if due else None,
        order_number=event.SalesOrderId,
    )


def order_from_d365(
    header: D365SalesOrderHeader, lines: list[D365SalesOrderLine], customer: Customer
) -> Order:
    currency = header.CurrencyCode
    return Order(
        reference=header.CustomersOrderReference,
        customer=customer,
        lines=tuple(
            OrderLine(
                item_number=line.ItemNumber,
                quantity=int(line.OrderedSalesQuantity),
                unit_price=Money(line.SalesPrice, currency),
                description=line.LineDescription,
            )
            for line in lines
        ),
        currency=currency,
        number=header.SalesOrderNumber,
        payment_status=str(getattr(header, "PaymentStatus", "") or ""),
    )


def payment_journal_line(
    payment: Payment,
    *,
    company: str,
    journal_batch_number: str,
    payment_reference: str,
    customer_account: str,
    payment_method: str,
    offset_bank_account: str,
    marked_invoice: str = "",
) -> D365PaymentJournalLine:
    """The customer payment journal line for a payment: money in credits the customer,
    money out (refunds) debits it; the offset is the clearing bank account."""
    amount = payment.amount.amount
    credit, debit = (
        (amount, Decimal(0)) if not payment.kind.moves_money_out else (Decimal(0), amount)
    )
    values: dict[str, object] = {
        "dataAreaId": company,
        "JournalBatchNumber": journal_batch_number,
        "AccountType": "Cust",
        "AccountDisplayValue": customer_account_display_value(customer_account),
        "TransactionDate": to_d365_date(payment.occurred_at.date()),
        "CurrencyCode": payment.amount.currency,
        "CreditAmount": credit,
        "DebitAmount": debit,
        "PaymentMethodName": payment_method,
        "PaymentReference": payment_reference,
        "PaymentId": payment.gateway_txn_id,
        "TransactionText": f"PayTrace {payment.kind.value} {payment.gateway_txn_id}",
        "OffsetAccountType": "Bank",
        "OffsetAccountDisplayValue": offset_bank_account,
        "IsPrepayment": "No",
    }
    if marked_invoice:
        values["MarkedInvoice"] = marked_invoice
        values["MarkedInvoiceCompany"] = company
    return D365PaymentJournalLine.model_validate(values)


def customer_account_of(line: D365PaymentJournalLine) -> str:
    """The customer account a payment line posts to (display value unescaped)."""
    return unescape_display_value(line.AccountDisplayValue)
