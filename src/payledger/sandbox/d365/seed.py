"""The demo company ``usmf`` (plus a little ``usrt``): what a fresh sandbox serves.

Journal names ``CustPay`` (customer payment) and ``GenJrn`` (daily), methods of payment,
customers, open sales orders and posted invoices; setup tables (customer groups, currencies,
payment terms, bank and main accounts, released products) that writes validate against.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payledger.sandbox.d365.invoices import InvoiceRequest, post_invoice
from payledger.sandbox.d365.rules import WriteContext
from payledger.sandbox.d365.state import Item, JournalName, ReferenceData, SandboxState
from payledger.sandbox.d365.writes import create

JOURNAL_NAMES = (
    JournalName("CustPay", "CustPayment", "Customer payments", "ARPM"),
    JournalName("GenJrn", "Daily", "General journal", "GNJL"),
)
PAYMENT_METHODS = (
    ("CHECK", "Check", "Check"),
    ("CASH", "Cash", "Other"),
    ("ELECTRONIC", "Electronic payment", "ElectronicPayment"),
    ("CREDITCARD", "Credit card (PayTrace)", "CreditCard"),
    ("ACH", "ACH bank transfer (PayTrace)", "ElectronicPayment"),
)
# account, name, group, terms, street, city, state, zip
CUSTOMERS = (
    (
        "US-001",
        "Contoso Retail San Diego",
        "30",
        "Net30",
        "456 Peach Road",
        "San Diego",
        "CA",
        "92127",
    ),
    (
        "US-002",
        "Contoso Retail Los Angeles",
        "30",
        "Net30",
        "789 Grape St",
        "Los Angeles",
        "CA",
        "90017",
    ),
    ("US-003", "Forest Wholesales", "10", "Net10", "123 Coffee St", "Seattle", "WA", "98104"),
    ("US-004", "Cave Wholesales", "10", "Net45", "456 Pine St", "Portland", "OR", "97205"),
    ("US-005", "Contoso Retail Seattle", "30", "Net30", "1 Main St", "Seattle", "WA", "98052"),
    ("US-006", "O'Brien Hardware", "90", "Net30", "12 Harbor Way", "Boston", "MA", "02110"),
)
USRT_CUSTOMERS = (
    ("US-001", "Retail Customer Houston", "30", "Net30", "9 Bayou Rd", "Houston", "TX", "77002"),
    ("RT-002", "Retail Customer Austin", "30", "Net30", "77 Congress Ave", "Austin", "TX", "78701"),
)


def reference_data() -> ReferenceData:
    return ReferenceData(
        journal_names={j.name.casefold(): j for j in JOURNAL_NAMES},
        customer_groups={"10", "20", "30", "80", "90"},
        currencies={"USD", "EUR", "CAD", "GBP", "MXN", "JPY"},
        payment_terms={"Net10", "Net30", "Net45", "Net60", "COD"},
        bank_accounts={"USMF OPER", "USMF PAYROLL", "USMF EUR", "USRT OPER"},
        main_accounts={"110110", "110130", "110180", "130100", "401100", "618160", "618170"},
        items={
            "D0001": Item("D0001", "MidRangeSpeaker2", Decimal("200.00")),
            "D0002": Item("D0002", "Cabinet", Decimal("180.00")),
            "D0003": Item("D0003", "StandardSpeaker", Decimal("220.00")),
            "T0001": Item("T0001", "SpeakerCable", Decimal("16.50")),
        },
    )


def _customer(ctx: WriteContext, company: str, row: tuple[str, ...]) -> None:
    account, name, group, terms, street, city, state, zip_code = row
    create(
        ctx,
        ctx.state.catalog.entities["CustomersV3"],
        {
            "dataAreaId": company,
            "CustomerAccount": account,
            "OrganizationName": name,
            "CustomerGroupId": group,
            "SalesCurrencyCode": "USD",
            "PaymentTerms": terms,
            "AddressDescription": "Primary",
            "AddressStreet": street,
            "AddressCity": city,
            "AddressState": state,
            "AddressZipCode": zip_code,
            "AddressCountryRegionId": "USA",
            "PrimaryContactEmail": f"ap@{account.lower()}.example",
        },
    )


def _order(ctx: WriteContext, account: str, reference: str, items: list[tuple[str, int]]) -> str:
    entities = ctx.state.catalog.entities
    header = create(
        ctx,
        entities["SalesOrderHeadersV2"],
        {
            "dataAreaId": "usmf",
            "OrderingCustomerAccountNumber": account,
            "CustomersOrderReference": reference,
        },
    )
    number: str = header.values["SalesOrderNumber"]
    for item, quantity in items:
        create(
            ctx,
            entities["SalesOrderLines"],
            {
                "dataAreaId": "usmf",
                "SalesOrderNumber": number,
                "ItemNumber": item,
                "OrderedSalesQuantity": Decimal(quantity),
            },
        )
    return number


def _payment_methods(ctx: WriteContext) -> None:
    methods = ctx.state.catalog.entities["CustomerPaymentMethods"]
    for company in ("usmf", "usrt"):
        for name, description, payment_type in PAYMENT_METHODS:
            create(
                ctx,
                methods,
                {
                    "dataAreaId": company,
                    "Name": name,
                    "Description": description,
                    "PaymentType": payment_type,
                    "AccountType": "Bank",
                    "PaymentAccountDisplayValue": f"{company.upper()} OPER",
                    "PaymentJournalName": "CustPay",
                },
            )


def seed(state: SandboxState) -> None:
    """Load the demo data into an empty sandbox."""
    state.reference = reference_data()
    ctx = WriteContext(state, "usmf", system=True)
    _payment_methods(ctx)
    for row in CUSTOMERS:
        _customer(ctx, "usmf", row)
    for row in USRT_CUSTOMERS:
        _customer(ctx, "usrt", row)
    _order(ctx, "US-001", "PG-ORDER-1001", [("D0001", 2), ("T0001", 4)])
    _order(ctx, "US-002", "PG-ORDER-1002", [("D0003", 1)])
    _order(ctx, "US-005", "PG-ORDER-1003", [("D0002", 3)])
    invoiced = _order(ctx, "US-001", "PG-ORDER-0990", [("D0001", 1)])
    post_invoice(
        ctx,
        InvoiceRequest(
            "usmf",
            "US-001",
            tax_amount=Decimal("16.00"),
            sales_order_number=invoiced,
            invoice_date=date(2025, 3, 5),
        ),
    )
    post_invoice(
        ctx, InvoiceRequest("usmf", "US-003", Decimal("1250.00"), invoice_date=date(2025, 3, 6))
    )
    post_invoice(ctx, InvoiceRequest("usmf", "US-006", Decimal("89.90"), Decimal("7.19")))
    _business_events_catalog(state)


def _business_events_catalog(state: SandboxState) -> None:
    events = (
        ("SalesInvoicePostedBusinessEvent", "Sales order invoice posted", "SalesOrder",
         "SalesInvoicePostedBusinessEventContract"),
        ("CustFreeTextInvoicePostedBusinessEvent", "Free text invoice posted", "Customer",
         "CustFreeTextInvoicePostedBusinessEventContract"),
        ("CustomerPaymentPostedBusinessEvent", "Customer payment posted", "Customer",
         "CustomerPaymentPostedBusinessEventContract"),
    )  # fmt: skip
    for event_id, name, module, contract in events:
        state.store.insert(
            "BusinessEventsCatalogs",
            {"BusinessEventId": event_id, "Name": name, "Module": module, "Contract": contract},
        )
