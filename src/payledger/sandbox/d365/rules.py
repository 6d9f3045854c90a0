"""Entity semantics shared by every entity: defaults, number sequences, required fields, lookups.

Each entity set has an :class:`EntityRules`; its hooks run inside the X++-like write chain of
:mod:`writes` and raise :class:`WriteFailed` with Infolog text, as F&O does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.errors import WriteFailed
from payledger.sandbox.d365.state import SandboxState
from payledger.sandbox.d365.store import Record, Store

Row = dict[str, Any]
"""An entity's values by property name, as stored and as the rules see them."""

# entity set -> (table label, table name) used in duplicate-key messages
TABLE_LABELS = {
    "CustomersV3": ("Customers", "CustTable"),
    "SalesOrderHeadersV2": ("Sales orders", "SalesTable"),
    "SalesOrderLines": ("Order lines", "SalesLine"),
    "CustomerPaymentJournalHeaders": ("Journal", "LedgerJournalTable"),
    "CustomerPaymentJournalLines": ("Journal lines", "LedgerJournalTrans"),
    "LedgerJournalHeaders": ("Journal", "LedgerJournalTable"),
    "LedgerJournalLines": ("Journal lines", "LedgerJournalTrans"),
    "CustomerPaymentMethods": ("Methods of payment - customers", "CustPaymModeTable"),
    "CustomerPaymentJournalFees": ("Payment fee", "CustVendPaymJournalFee"),
    "PaymentJournalLineSettledInvoices": ("Marked transactions", "SpecTrans"),
    "BusinessEventsEndpoints": ("Business event endpoints", "BusinessEventsEndpoint"),
    "FreeTextInvoiceHeaders": ("Free text invoice", "CustInvoiceTable"),
    "FreeTextInvoiceLines": ("Free text invoice lines", "CustInvoiceLine"),
    "CustomerCollectionsNotes": ("Collections notes", "CustCollectionsNote"),
}


@dataclass
class WriteContext:
    """What a rule may look at while one write runs."""

    state: SandboxState
    company: str
    in_batch: bool = False
    system: bool = False
    """True for the sandbox's own writes (seeding): number sequences accept given values."""

    @property
    def store(self) -> Store:
        return self.state.store

    def fail(self, entity: EntityType, *infolog: str) -> WriteFailed:
        status = 500 if self.in_batch else self.state.settings.write_error_status
        return WriteFailed(entity.aot_name, list(infolog), status)

    def rows(self, set_name: str) -> list[dict[str, Any]]:
        return [r.values for r in self.state.store.table(set_name)]

    def find(self, set_name: str, **criteria: Any) -> dict[str, Any] | None:
        """The first row whose values match ``criteria`` (strings compared ignoring case)."""
        for values in self.rows(set_name):
            if all(_same(values.get(k), v) for k, v in criteria.items()):
                return values
        return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return bool(a == b)


def lookup_failed(entity: EntityType, field: str, value: Any, label: str, table: str) -> list[str]:
    """The Infolog F&O writes when a value is missing from its related table."""
    return [
        f"Warning: The value '{value}' in field '{label}' is not found in the related table "
        f"'{table}'.",
        f"Warning: validateField failed on field '{entity.aot_name}.{field}'.",
    ]


def must_be_filled(entity: EntityType, field: str, label: str | None = None) -> list[str]:
    return [
        f"Warning: Field '{label or field}' must be filled in.",
        f"Warning: validateField failed on field '{entity.aot_name}.{field}'.",
    ]


def split_display_value(display_value: str) -> list[str]:
    """Segments of a ledger-dimension display value: ``-`` separates, ``\\`` escapes."""
    segments, current, escaped = [], [], False
    for char in display_value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "-":
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return segments


class EntityRules:
    """Default semantics: no defaults, no extra validation, writable."""

    read_only = False
    number_fields: dict[str, tuple[str, str]] = {}
    """field -> (sequence name, format with {n}) for server-assigned numbers."""

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        """Fill defaults and validate a new row; raise ``ctx.fail(...)`` to refuse it."""

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        """Validate a changed row (``new`` already holds the merged values)."""

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        """Refuse a delete by raising."""

    def after_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        """Cascade a delete to dependent rows."""

    def computed(self, ctx: WriteContext, entity: EntityType, values: Row) -> dict[str, Any]:
        """Values computed when a row is read (totals and the like)."""
        return {}


class ReadOnlyRules(EntityRules):
    """Posted documents and catalogs: F&O refuses writes through these entities."""

    read_only = True


def delete_where(ctx: WriteContext, set_name: str, **criteria: Any) -> None:
    table = ctx.state.store.table(set_name)
    for record in list(table):
        if all(_same(record.values.get(k), v) for k, v in criteria.items()):
            ctx.state.store.delete(set_name, record)


def records_where(ctx: WriteContext, set_name: str, **criteria: Any) -> list[Record]:
    return [
        r
        for r in ctx.state.store.table(set_name)
        if all(_same(r.values.get(k), v) for k, v in criteria.items())
    ]
