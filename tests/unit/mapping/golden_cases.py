"""The samples behind the golden files: domain objects turned into source documents.

Regenerate deliberately, after reviewing the change it causes::

    .venv/bin/python tests/unit/mapping/golden_cases.py

It rewrites ``golden/<template>.<case>.json`` (input document and expected payload).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from payledger.domain import (
    Address,
    Customer,
    Invoice,
    Money,
    Order,
    OrderLine,
    Outcome,
    Payment,
    PaymentKind,
    PaymentStatus,
    PaymentToken,
    SettlementBatch,
)
from payledger.mapping import compile_template, default_template, dumps, loads, source_document

GOLDEN = Path(__file__).parent / "golden"
SETTINGS_FILE = GOLDEN / "_settings.json"

ACME = Customer(
    name="Acme Stores Ltd",
    account="US-001",
    gateway_customer_id="cust-0042",
    email="ap@acme.example",
    phone="+1-206-555-0101",
    billing_address=Address(("1 Main St", "Suite 5"), "Seattle", "WA", "98052", "US"),
    is_organization=True,
)
STEVE = Customer(
    name="Steve A. Smith",
    gateway_customer_id="cust-0043",
    email="steve@example.com",
    billing_address=Address(("8320 E. West St.",), "Spokane", "WA", "85284", "us"),
)
INVOICE = Invoice(
    number="CIV-000817",
    customer_account="US-001",
    amount=Money.of("125.50"),
    open_amount=Money.of("125.50"),
    due=date(2025, 4, 4),
    order_number="001261",
)
ORDER = Order(
    reference="PG-ORDER-88231",
    customer=ACME,
    lines=(
        OrderLine("D0001", 2, Money.of("50.25"), "Desk lamp"),
        OrderLine("D0002", 1, Money.of("25.00")),
    ),
    currency="USD",
    number="001261",
    payment_status="Authorized",
)
SUMMARY = {
    "journal_batch_number": "00640", "line_number": 1, "batch": "640",
    "settled_on": "2025-03-05", "currency": "USD",
}  # fmt: skip
BATCH = SettlementBatch(
    number="413",
    settled_at=datetime(2025, 3, 6, 4, 13, 45, tzinfo=UTC),
    net=Money.of("1043.12"),
    transaction_count=12,
    sales=Money.of("1100.00"),
    refunds=Money.of("56.88"),
    fees=Money.of("31.95"),
)
D365_CUSTOMER = {
    "dataAreaId": "usmf", "CustomerAccount": "US-027", "PartyType": "Person",
    "OrganizationName": "", "PersonFirstName": "Nathan", "PersonMiddleName": "",
    "PersonLastName": "Williams", "AddressStreet": "12 Harbor Way\nBuilding C\nFloor 2",
    "AddressCity": "Tacoma", "AddressState": "WA", "AddressZipCode": "98402",
    "AddressCountryRegionISOCode": "US", "PrimaryContactEmail": "nathan@example.com",
    "PrimaryContactPhone": "+1-253-555-0199", "PayTraceCustomerId": "",
}  # fmt: skip
D365_ORDER = {
    "dataAreaId": "usmf", "SalesOrderNumber": "001262", "CustomersOrderReference": "WEB-5521",
    "CustomerRequisitionNumber": "PO-7781", "CurrencyCode": "USD", "OrderTotalAmount": 84.1,
}  # fmt: skip


def payment(kind: PaymentKind, **changes: Any) -> Payment:
    values: dict[str, Any] = {
        "gateway_txn_id": "125391271",
        "kind": kind,
        "status": PaymentStatus.APPROVED,
        "amount": Money.of("125.50"),
        "occurred_at": datetime(2025, 3, 5, 3, 4, 5, tzinfo=UTC),
        "response_code": "101",
        "message": "Approved.",
        "customer": ACME,
        "invoice_ref": "CIV-000817",
        "auth_code": "TAS445",
        "token": PaymentToken("cust-0042", "xxxxxxxxxxxx5439"),
    }
    values.update(changes)
    return Payment(**values)


LINE = {
    "journal_batch_number": "00631",
    "line_number": 7,
    "operation": "payment",
    "payment_reference": "PT-125391271-PAY",
}
REFUND_LINE = {**LINE, "operation": "refund", "payment_reference": "PT-179066852-REF"}

CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "d365_payment_journal_line.sale": lambda: source_document(
        payment(PaymentKind.SALE), invoice=INVOICE, context=LINE
    ),
    "d365_payment_journal_line.refund_enriched": lambda: source_document(
        payment(
            PaymentKind.REFUND,
            gateway_txn_id="179066852",
            original_txn_id="125391271",
            amount=Money.of("20"),
            response_code="106",
            message="",
            customer=STEVE,
        ),
        context=REFUND_LINE,
        enrich={"d365_invoice": {"InvoiceNumber": "CIV-000817",
                                 "InvoiceCustomerAccountNumber": "US-001"}},
    ),
    "d365_payment_journal_line.ach_sale": lambda: source_document(
        payment(PaymentKind.ACH_SALE, gateway_txn_id="CHK-981619", response_code="120",
                message="", auth_code="", token=None, invoice_ref=""),
        context={**LINE, "payment_reference": "PT-CHK-981619-PAY"},
    ),
    "d365_payment_journal_line.ach_refund": lambda: source_document(
        payment(PaymentKind.ACH_REFUND, gateway_txn_id="CHK-981620",
                original_txn_id="CHK-981619", amount=Money.of("20"), response_code="122",
                message="", auth_code="", token=None, invoice_ref=""),
        context={**REFUND_LINE, "payment_reference": "PT-CHK-981620-REF"},
    ),
    "d365_payment_journal_header.usd": lambda: source_document(
        context={"currency": "USD", "business_day": "2025-03-04"}
    ),
    "d365_payment_journal_summary_line.batch": lambda: source_document(
        context={**SUMMARY, "method": "VISA", "payment_reference": "PT-SUM-640-VISA",
                 "count": 12, "credit": Decimal("1520.75"), "debit": Decimal(0)}
    ),
    "d365_payment_journal_summary_line.refunds": lambda: source_document(
        context={**SUMMARY, "method": "ACH", "payment_reference": "PT-SUM-640-ACH",
                 "count": 2, "credit": Decimal(0), "debit": Decimal("80.00")}
    ),
    "d365_payment_journal_summary_fee.batch": lambda: source_document(
        context={**SUMMARY, "method": "FEE", "payment_reference": "PT-SUM-640-FEE",
                 "count": 0, "credit": Decimal(0), "debit": Decimal("44.41")}
    ),
    "d365_settled_invoice.sale": lambda: source_document(
        payment(PaymentKind.SALE), invoice=INVOICE, context=LINE
    ),
    "d365_customer.organization": lambda: source_document(customer=ACME),
    "d365_customer.person": lambda: source_document(customer=STEVE),
    "d365_customer_from_paytrace.profile": lambda: source_document(
        customer=Customer(
            name="Nathan Williams",
            account="US-027",
            gateway_customer_id="cust-0001",
            email="nathan@example.com",
            phone="+1-509-555-0100",
            billing_address=Address(("100 Main St.", "Unit 4"), "Spokane", "WA", "99201", "us"),
        )
    ),
    "d365_sales_order_header.shop_order": lambda: source_document(
        payment(PaymentKind.AUTHORIZATION), order=ORDER
    ),
    "d365_sales_order_header.ship_elsewhere": lambda: source_document(
        payment(PaymentKind.SALE, customer=STEVE),
        order=replace(ORDER, customer=STEVE, payment_status="Paid",
                      delivery_address=Address(("9 Dock Rd", "Bay 3"), "Tacoma", "WA", "98402",
                                               "us")),
        customer=replace(STEVE, account="US-031"),
    ),
    "d365_sales_order_line.first": lambda: source_document(
        order=ORDER, line=ORDER.lines[0], context={"line_number": 1}
    ),
    "d365_order_payment_status.authorized": lambda: source_document(
        payment(PaymentKind.AUTHORIZATION, order_ref="WEB-5521"),
        enrich={"d365_order": D365_ORDER},
        context={"order_status": "authorized"},
    ),
    "d365_order_payment_status.declined": lambda: source_document(
        payment(PaymentKind.SALE, outcome=Outcome.SOFT_DECLINE, status=PaymentStatus.DECLINED,
                response_code="102", auth_code=""),
        order=ORDER,
        context={"order_status": "declined"},
    ),
    "d365_general_journal_header.batch": lambda: source_document(batch=BATCH),
    "d365_general_journal_fee.batch": lambda: source_document(
        batch=BATCH, context={"journal_batch_number": "000412", "line_number": 1}
    ),
    "d365_general_journal_deposit.batch": lambda: source_document(
        batch=BATCH, context={"journal_batch_number": "000412", "line_number": 2}
    ),
    "paytrace_customer_profile.person": lambda: source_document(
        enrich={"d365_customer": D365_CUSTOMER}
    ),
    "paytrace_transaction_request.invoice": lambda: source_document(
        customer=Customer(name="Nathan Williams", account="US-027"),
        invoice=Invoice("CIV-000900", "US-027", Money.of("84.10"), Money.of("60.10")),
        enrich={"d365_customer": D365_CUSTOMER, "d365_order": D365_ORDER},
    ),
    "paytrace_transaction_request.order": lambda: source_document(
        order=ORDER, context={"amount": "75.5"}
    ),
    "paytrace_transaction_request.shop_order": lambda: source_document(
        order=replace(ORDER, number="", customer=STEVE,
                      delivery_address=Address(("9 Dock Rd", "Bay 3"), "Tacoma", "WA", "98402",
                                               "us")),
        customer=STEVE, context={"amount": Decimal("131.78"), "tax_amount": Decimal("6.28")},
    ),
}  # fmt: skip


def settings() -> dict[str, Any]:
    return loads(SETTINGS_FILE.read_text())


def expected_output(case: str, document: dict[str, Any]) -> dict[str, Any]:
    template = default_template(case.split(".")[0])
    return compile_template(template, settings()).map(document)


def write(case: str) -> Path:
    document = CASES[case]()
    golden = {"template": case.split(".")[0], "input": document}
    golden["output"] = expected_output(case, loads(dumps(document)))
    path = GOLDEN / f"{case}.json"
    path.write_text(dumps(golden, indent=2) + "\n")
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or CASES:
        print(write(name))
