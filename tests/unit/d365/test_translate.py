"""D365 <-> canonical translation: dates, money direction, customers, invoices, events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from payledger.adapters.d365.schemas import (
    D365Customer,
    D365SalesInvoiceHeader,
    D365SalesInvoicePostedEvent,
)
from payledger.adapters.d365.translate import (
    customer_from_d365,
    customer_to_d365,
    from_d365_date,
    from_d365_instant,
    from_event_date,
    invoice_from_d365,
    invoice_from_event,
    payment_journal_line,
    to_d365_date,
)
from payledger.domain import Customer, Money, Payment, PaymentKind, PaymentStatus


def test_date_only_values_travel_at_midday_utc_and_1900_is_empty():
    assert to_d365_date(date(2025, 3, 5)) == datetime(2025, 3, 5, 12, tzinfo=UTC)
    assert from_d365_date("2025-03-05T12:00:00Z") == date(2025, 3, 5)
    assert from_d365_date("1900-01-01T12:00:00Z") is None
    assert from_d365_instant("1900-01-01T00:00:00Z") is None
    assert from_d365_instant("2025-03-01T09:12:44Z") == datetime(2025, 3, 1, 9, 12, 44, tzinfo=UTC)
    assert from_event_date("/Date(1741132800000)/") == datetime(2025, 3, 5, tzinfo=UTC)


def _payment(kind: PaymentKind) -> Payment:
    return Payment(
        gateway_txn_id="123456",
        kind=kind,
        status=PaymentStatus.APPROVED,
        amount=Money.of("125.50"),
        occurred_at=datetime(2025, 3, 5, 23, 30, tzinfo=UTC),
    )


def test_payment_in_credits_the_customer_and_refund_debits_it():
    common = {
        "company": "usmf",
        "journal_batch_number": "00631",
        "payment_reference": "pt-123456-sale",
        "customer_account": "US-001",
        "payment_method": "CREDITCARD",
        "offset_bank_account": "USMF OPER",
    }

    sale = payment_journal_line(_payment(PaymentKind.SALE), **common, marked_invoice="CIV-1")
    refund = payment_journal_line(_payment(PaymentKind.REFUND), **common)

    assert (sale.CreditAmount, sale.DebitAmount) == (Decimal("125.50"), Decimal(0))
    assert (refund.CreditAmount, refund.DebitAmount) == (Decimal(0), Decimal("125.50"))
    assert sale.AccountDisplayValue == "US\\-001"
    assert sale.TransactionDate == datetime(2025, 3, 5, 12, tzinfo=UTC)
    assert sale.body()["MarkedInvoice"] == "CIV-1"
    assert "MarkedInvoice" not in refund.body()


def test_customer_round_trip_with_extension_field():
    customer = Customer(
        name="Acme Stores", account="PG-1", gateway_customer_id="pt-9", is_organization=True
    )

    row = customer_to_d365(
        customer,
        company="usmf",
        customer_group="30",
        currency="USD",
        gateway_id_field="PayTraceCustomerId",
    )
    back = customer_from_d365(
        D365Customer.from_row(row.body()), gateway_id_field="PayTraceCustomerId"
    )

    assert row.body()["PayTraceCustomerId"] == "pt-9"
    assert (back.name, back.account, back.gateway_customer_id) == ("Acme Stores", "PG-1", "pt-9")


def test_invoice_from_header_and_from_event():
    header = D365SalesInvoiceHeader.from_row(
        {"InvoiceNumber": "CIV-1", "InvoiceCustomerAccountNumber": "US-001", "CurrencyCode": "USD",
         "TotalInvoiceAmount": Decimal("125.5"), "SalesOrderNumber": "001261"}
    )  # fmt: skip
    event = D365SalesInvoicePostedEvent.model_validate(
        {"BusinessEventId": "SalesInvoicePostedBusinessEvent", "InvoiceId": "CIV-2",
         "InvoiceAccount": "US-002", "InvoiceDueDate": "/Date(1743724800000)/",
         "InvoiceAmountInAccountingCurrency": Decimal("10")}
    )  # fmt: skip

    assert invoice_from_d365(header).amount == Money.of("125.50")
    assert invoice_from_d365(header).order_number == "001261"
    assert invoice_from_event(event, "USD").due == date(2025, 4, 4)
