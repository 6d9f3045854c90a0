"""A schema catalog built from the D365 fact sheet's Appendix A (and B for enum members).

Property names, types, nullability and keys are the real ones (``fixtures/appendix_a.txt`` is
copied verbatim from the fact sheet). F&O publishes no ``MaxLength`` facets (fact sheet §2.1),
so string lengths here are chosen to match the usual F&O extended data types (dataAreaId 4,
customer account 20, journal batch number 10, names 100, text 60...). ``IsRequired`` and
read-only flags follow §4.1, §4.6 and §4.8. The environment is assumed to carry the
extension fields payledger's configuration names (PayTraceCustomerId on customers,
PaymentStatus and PaymentAuthId on sales order headers), as a real one would.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from payledger.mapping import (
    EntitySchema,
    FieldType,
    PropertySchema,
    StaticCatalog,
    paytrace_entities,
)

FIXTURES = Path(__file__).parent / "fixtures"
DISCRETIONARY_TITLES = ("D365 Order", "D365 Customer")
DEFAULT_STRING_LENGTH = 60

LENGTHS: dict[str, int | None] = {
    "dataAreaId": 4, "Company": 4, "OffsetCompany": 4, "MarkedInvoiceCompany": 4,
    "JournalLineCompany": 4, "InvoiceCompany": 4,
    "JournalBatchNumber": 10, "JournalName": 10, "Voucher": 20, "PostingProfile": 10,
    "AccountDisplayValue": 500, "OffsetAccountDisplayValue": 500,
    "DefaultDimensionsForAccountDisplayValue": 500, "DefaultDimensionDisplayValue": 500,
    "CurrencyCode": 3, "SalesCurrencyCode": 3, "PaymentMethodName": 10, "PaymentMethod": 10,
    "PaymentReference": 60, "PaymentId": 60, "TransactionText": 60, "Text": 60,
    "PaymentNotes": None, "MarkedInvoice": 20, "InvoiceNumber": 20, "Invoice": 20,
    "invoiceAccount": 20, "CustomerAccount": 20, "OrderingCustomerAccountNumber": 20,
    "InvoiceCustomerAccountNumber": 20, "CustomerName": 100, "IntegrationKey": 60,
    "OrganizationName": 100, "PersonFirstName": 25, "PersonMiddleName": 25,
    "PersonLastName": 25, "PartyType": 20, "CustomerGroupId": 10,
    "PrimaryContactEmail": 255, "PrimaryContactPhone": 255, "Email": 255,
    "AddressStreet": 250, "AddressCity": 60, "AddressState": 10, "AddressZipCode": 10,
    "AddressCountryRegionId": 10, "AddressCountryRegionISOCode": 2,
    "DeliveryAddressName": 100, "DeliveryAddressStreet": 250, "DeliveryAddressCity": 60,
    "DeliveryAddressStateId": 10, "DeliveryAddressZipCode": 10,
    "DeliveryAddressCountryRegionISOCode": 2, "CustomersOrderReference": 60,
    "CustomerRequisitionNumber": 20, "SalesOrderNumber": 20, "ItemNumber": 20,
    "LineDescription": 1000, "SalesUnitSymbol": 10, "FullPrimaryAddress": None,
}  # fmt: skip

REQUIRED = {"CustomersV3": {"CustomerGroupId", "SalesCurrencyCode"}}
READ_ONLY = {
    "CustomerPaymentJournalHeaders": {"IsPosted"},
    "CustomerPaymentJournalLines": {"Voucher", "CustomerName"},
    "LedgerJournalHeaders": {"IsPosted", "AccountingCurrency", "JournalTotalDebit",
                             "JournalTotalCredit"},
    "LedgerJournalLines": {"Voucher"},
    "CustomersV3": {"PartyNumber", "FullPrimaryAddress"},
}  # fmt: skip
EXTENSIONS = {
    "CustomersV3": {
        "PayTraceCustomerId": PropertySchema(FieldType.STRING, max_length=50),
        "PayTraceSync": PropertySchema(FieldType.ENUM, enum_members=("No", "Yes")),
    },
    "SalesOrderHeadersV2": {
        "PaymentStatus": PropertySchema(FieldType.STRING, max_length=20),
        "PaymentAuthId": PropertySchema(FieldType.STRING, max_length=20),
        "PaymentAmount": PropertySchema(FieldType.DECIMAL),
        "PaymentMessage": PropertySchema(FieldType.STRING, max_length=250),
    },
}

_TYPES = {
    "str": FieldType.STRING,
    "dec": FieldType.DECIMAL,
    "dto": FieldType.DATETIME,
    "int32": FieldType.INTEGER,
    "int64": FieldType.INTEGER,
    "guid": FieldType.GUID,
}


def enum_members() -> dict[str, tuple[str, ...]]:
    members = {}
    for line in (FIXTURES / "appendix_b.txt").read_text().splitlines():
        match = re.match(r"- \*\*(\w+)\*\*(?: \([^)]*\))?: (.*)", line)
        if match:
            members[match.group(1)] = tuple(match.group(2).split())
    return members


def _property(entity: str, name: str, type_text: str, keys: set[str]) -> PropertySchema:
    nullable = not type_text.endswith("!")
    type_text = type_text.rstrip("!")
    members: tuple[str, ...] = ()
    if type_text.startswith("enum "):
        kind, members = FieldType.ENUM, enum_members()[type_text.removeprefix("enum ")]
    else:
        kind = _TYPES[type_text]
    length = LENGTHS.get(name, DEFAULT_STRING_LENGTH) if kind is FieldType.STRING else None
    return PropertySchema(
        type=kind,
        max_length=length,
        nullable=nullable,
        is_key=name in keys,
        required=name in REQUIRED.get(entity, ()),
        read_only=name in READ_ONLY.get(entity, ()),
        enum_members=members,
    )


@cache
def d365_entities() -> tuple[EntitySchema, ...]:
    text = (FIXTURES / "appendix_a.txt").read_text()
    entities = []
    for block in re.findall(r"#### (\w+)\nKey: \(([^)]*)\)[^\n]*\n([^\n]+)", text):
        name, key_text, property_text = block
        keys = {key.strip() for key in key_text.split(",")}
        properties = {}
        for item in property_text.split(", "):
            prop_name, type_text = item.split(":", 1)
            properties[prop_name] = _property(name, prop_name, type_text, keys)
        properties.update(EXTENSIONS.get(name, {}))
        entities.append(EntitySchema(name, properties, "d365"))
    return tuple(entities)


def fixture_catalog(titles: tuple[str, ...] = DISCRETIONARY_TITLES) -> StaticCatalog:
    """Appendix A entities plus the PayTrace targets with ``titles`` configured."""
    return StaticCatalog.of(d365_entities(), paytrace_entities(titles))
