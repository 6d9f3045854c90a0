"""The entity model the sandbox serves: entity types, properties, keys, navigations and enums.

Built from :mod:`catalog_data` (the fact sheet's appendices) plus the extension fields a
deployment adds, such as ``PayTraceCustomerId`` on customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from payledger.sandbox.d365.catalog_data import ENTITY_PROPERTIES, ENUM_MEMBERS

NAMESPACE = "Microsoft.Dynamics.DataEntities"

EDM_TYPES = {
    "str": "Edm.String",
    "dec": "Edm.Decimal",
    "dto": "Edm.DateTimeOffset",
    "int32": "Edm.Int32",
    "int64": "Edm.Int64",
    "guid": "Edm.Guid",
}

# entity set -> (entity type name, AOT entity name used in Infolog messages, data sources in ETag)
_ENTITY_INFO: dict[str, tuple[str, str, int]] = {
    "CustomersV3": ("CustomerV3", "CustCustomerV3Entity", 1),
    "SalesOrderHeadersV2": ("SalesOrderHeaderV2", "SalesOrderHeaderV2Entity", 6),
    "SalesOrderLines": ("SalesOrderLine", "SalesOrderLineEntity", 3),
    "SalesInvoiceHeadersV2": ("SalesInvoiceHeaderV2", "SalesInvoiceHeaderV2Entity", 2),
    "SalesInvoiceHeaders": ("SalesInvoiceHeader", "SalesInvoiceHeaderEntity", 2),
    "SalesInvoiceLines": ("SalesInvoiceLine", "SalesInvoiceLineEntity", 2),
    "CustomerPaymentJournalHeaders": (
        "CustomerPaymentJournalHeader",
        "LedgerJournalCustPaymentHeaderEntity",
        2,
    ),
    "CustomerPaymentJournalLines": (
        "CustomerPaymentJournalLine",
        "LedgerJournalCustPaymentLineEntity",
        6,
    ),
    "PaymentJournalLineSettledInvoices": (
        "PaymentJournalLineSettledInvoice",
        "CustPaymJournalLineSettledInvoiceEntity",
        2,
    ),
    "CustomerPaymentJournalFees": ("CustomerPaymentJournalFee", "CustPaymJournalFeeEntity", 1),
    "LedgerJournalHeaders": ("LedgerJournalHeader", "LedgerJournalHeaderEntity", 1),
    "LedgerJournalLines": ("LedgerJournalLine", "LedgerJournalLineEntity", 1),
    "CustomerPaymentMethods": ("CustomerPaymentMethod", "CustPaymModeEntity", 1),
    "CustTransactions": ("CustTransaction", "CustTransEntity", 1),
    "FreeTextInvoiceHeaders": ("FreeTextInvoiceHeader", "CustFreeTextInvoiceHeaderEntity", 1),
    "FreeTextInvoiceLines": ("FreeTextInvoiceLine", "CustFreeTextInvoiceLineEntity", 1),
    "BusinessEventsCatalogs": ("BusinessEventsCatalog", "BusinessEventsCatalogEntity", 1),
    "BusinessEventsEndpoints": ("BusinessEventsEndpoint", "BusinessEventsEndpointEntity", 1),
    "CustomerCollectionsNotes": ("CustomerCollectionsNote", "CustCollectionsNoteEntity", 1),
    "CallCenterSalesOrderCustomerPayments": (
        "CallCenterSalesOrderCustomerPayment",
        "MCRCustPaymEntity",
        1,
    ),
}

# (entity set, navigation name, target set, many, ((source property, target property), ...))
_NAVIGATIONS: tuple[tuple[str, str, str, bool, tuple[tuple[str, str], ...]], ...] = (
    (
        "SalesOrderHeadersV2",
        "SalesOrderLines",
        "SalesOrderLines",
        True,
        (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber")),
    ),
    (
        "SalesOrderLines",
        "SalesOrderHeaderV2",
        "SalesOrderHeadersV2",
        False,
        (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber")),
    ),
    (
        "CustomerPaymentJournalHeaders",
        "CustomerPaymentJournalLineHeaderEntity",
        "CustomerPaymentJournalLines",
        True,
        (("dataAreaId", "dataAreaId"), ("JournalBatchNumber", "JournalBatchNumber")),
    ),
    (
        "CustomerPaymentJournalHeaders",
        "CustomerPaymentJournalHeaderRole",
        "PaymentJournalLineSettledInvoices",
        True,
        (("dataAreaId", "JournalLineCompany"), ("JournalBatchNumber", "JournalBatchNumber")),
    ),
    (
        "CustomerPaymentJournalLines",
        "CustomerPaymentJournalLineHeaderEntityRole",
        "CustomerPaymentJournalHeaders",
        False,
        (("dataAreaId", "dataAreaId"), ("JournalBatchNumber", "JournalBatchNumber")),
    ),
    (
        "CustomerPaymentJournalLines",
        "CustomerPaymentJournalFee",
        "CustomerPaymentJournalFees",
        True,
        (
            ("dataAreaId", "dataAreaId"),
            ("JournalBatchNumber", "SourceJournalBatchNumber"),
            ("LineNumber", "SourceJournalLineNumber"),
        ),
    ),
    (
        "CustomerPaymentJournalLines",
        "CustomerPaymentJournalLineRole",
        "PaymentJournalLineSettledInvoices",
        True,
        (
            ("dataAreaId", "JournalLineCompany"),
            ("JournalBatchNumber", "JournalBatchNumber"),
            ("LineNumber", "JournalLineNumber"),
        ),
    ),
    (
        "FreeTextInvoiceHeaders",
        "FreeTextInvoiceLine",
        "FreeTextInvoiceLines",
        True,
        (("dataAreaId", "dataAreaId"), ("InvoiceIdentifier", "InvoiceIdentifier")),
    ),
    (
        "FreeTextInvoiceLines",
        "FreeTextInvoiceHeader",
        "FreeTextInvoiceHeaders",
        False,
        (("dataAreaId", "dataAreaId"), ("InvoiceIdentifier", "InvoiceIdentifier")),
    ),
    (
        "LedgerJournalHeaders",
        "LedgerJournalLine",
        "LedgerJournalLines",
        True,
        (("dataAreaId", "dataAreaId"), ("JournalBatchNumber", "JournalBatchNumber")),
    ),
    (
        "LedgerJournalLines",
        "LedgerJournalHeader",
        "LedgerJournalHeaders",
        False,
        (("dataAreaId", "dataAreaId"), ("JournalBatchNumber", "JournalBatchNumber")),
    ),
)

# Properties the metadata marks IsRequired (fact sheet 4.1) and number-sequence keys that the
# metadata marks AllowEditOnCreate=false.
REQUIRED = {"CustomersV3": ("CustomerGroupId", "SalesCurrencyCode")}
SERVER_ASSIGNED = {
    "CustomerPaymentJournalHeaders": ("JournalBatchNumber",),
    "LedgerJournalHeaders": ("JournalBatchNumber",),
    "SalesOrderHeadersV2": ("SalesOrderNumber",),
    "SalesOrderLines": ("InventoryLotId",),
    "FreeTextInvoiceHeaders": ("InvoiceIdentifier",),
    "CustomerCollectionsNotes": ("NoteId",),
}


@dataclass(frozen=True)
class Property:
    """One structural property of an entity type."""

    name: str
    kind: str
    nullable: bool
    enum: str | None = None

    @property
    def edm_type(self) -> str:
        return f"{NAMESPACE}.{self.enum}" if self.enum else EDM_TYPES[self.kind]

    @property
    def is_date_only(self) -> bool:
        """Date-only X++ fields come back as midday UTC; true instants are named so."""
        if self.kind != "dto":
            return False
        name = self.name
        return not ("DateTime" in name or name.endswith(("ValidFrom", "ValidTo", "Time")))


@dataclass(frozen=True)
class Navigation:
    name: str
    target_set: str
    many: bool
    join: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EntityType:
    """An entity type and the entity set that exposes it."""

    set_name: str
    type_name: str
    aot_name: str
    keys: tuple[str, ...]
    properties: dict[str, Property]
    navigations: dict[str, Navigation] = field(default_factory=dict)
    datasources: int = 1

    @property
    def qualified_type(self) -> str:
        return f"{NAMESPACE}.{self.type_name}"

    @property
    def company_property(self) -> str | None:
        """The property that scopes a row to a legal entity, if any."""
        for candidate in ("dataAreaId", "JournalLineCompany"):
            if candidate in self.properties:
                return candidate
        return None


@dataclass(frozen=True)
class Catalog:
    entities: dict[str, EntityType]
    enums: dict[str, tuple[str, ...]]

    def by_type_name(self, type_name: str) -> EntityType | None:
        short = type_name.removeprefix("#").removeprefix(NAMESPACE + ".")
        return next((e for e in self.entities.values() if e.type_name == short), None)


def parse_property(spec: str) -> Property:
    """Parse ``Name:type[!]`` (``enum:X`` or ``enum X`` for enums) into a :class:`Property`."""
    name, _, type_spec = spec.partition(":")
    nullable = not type_spec.endswith("!")
    type_spec = type_spec.rstrip("!").replace("enum ", "enum:")
    if type_spec.startswith("enum:"):
        return Property(name, "enum", nullable, type_spec.removeprefix("enum:"))
    if type_spec not in EDM_TYPES:
        raise ValueError(f"unknown property type {type_spec!r} for {name}")
    return Property(name, type_spec, nullable)


def build_catalog(extension_fields: Mapping[str, Mapping[str, str]] | None = None) -> Catalog:
    """The catalog with ``extension_fields`` (entity set -> {field: type spec}) added."""
    extension_fields = extension_fields or {}
    unknown = set(extension_fields) - set(ENTITY_PROPERTIES)
    if unknown:
        raise ValueError(f"extension fields for unknown entity sets: {sorted(unknown)}")
    entities = {}
    for set_name, (keys, props) in ENTITY_PROPERTIES.items():
        properties = {p.name: p for p in map(parse_property, props.split())}
        for name, type_spec in extension_fields.get(set_name, {}).items():
            properties[name] = parse_property(f"{name}:{type_spec}")
        type_name, aot_name, datasources = _ENTITY_INFO[set_name]
        entities[set_name] = EntityType(
            set_name, type_name, aot_name, tuple(keys.split()), properties, {}, datasources
        )
    for source, name, target, many, join in _NAVIGATIONS:
        entities[source].navigations[name] = Navigation(name, target, many, join)
    enums = {name: tuple(members.split()) for name, members in ENUM_MEMBERS.items()}
    return Catalog(entities, enums)
