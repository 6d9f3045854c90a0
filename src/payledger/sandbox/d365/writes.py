"""Create, update and delete, run through F&O's write chain.

initValue -> set fields -> validateField -> defaultRow -> validateWrite -> write (fact sheet 5.1):
here that is coerce -> company and numbers -> entity rules -> required fields -> duplicate key
-> insert.
"""

from __future__ import annotations

from typing import Any

from payledger.sandbox.d365.catalog import REQUIRED, EntityType
from payledger.sandbox.d365.collections import CollectionsNoteRules
from payledger.sandbox.d365.errors import ODataError, bad_request, precondition_failed
from payledger.sandbox.d365.free_text import FreeTextHeaderRules, FreeTextLineRules
from payledger.sandbox.d365.journals import (
    JournalChildRules,
    JournalHeaderRules,
    JournalLineRules,
)
from payledger.sandbox.d365.rules import (
    TABLE_LABELS,
    EntityRules,
    ReadOnlyRules,
    WriteContext,
    must_be_filled,
)
from payledger.sandbox.d365.rules_sales import (
    CustomerRules,
    SalesOrderLineRules,
    SalesOrderRules,
)
from payledger.sandbox.d365.store import Record
from payledger.sandbox.d365.values import coerce

RULES: dict[str, EntityRules] = {
    "CustomersV3": CustomerRules(),
    "SalesOrderHeadersV2": SalesOrderRules(),
    "SalesOrderLines": SalesOrderLineRules(),
    "SalesInvoiceHeadersV2": ReadOnlyRules(),
    "SalesInvoiceHeaders": ReadOnlyRules(),
    "SalesInvoiceLines": ReadOnlyRules(),
    "CustTransactions": ReadOnlyRules(),
    "BusinessEventsCatalogs": ReadOnlyRules(),
    "CustomerPaymentJournalHeaders": JournalHeaderRules("CustomerPaymentJournalLines"),
    "LedgerJournalHeaders": JournalHeaderRules("LedgerJournalLines"),
    "CustomerPaymentJournalLines": JournalLineRules("TransactionDate", "ExchangeRate", "Cust"),
    "LedgerJournalLines": JournalLineRules("TransDate", "ExchRate", "Ledger"),
    "CustomerPaymentJournalFees": JournalChildRules(
        "dataAreaId", "SourceJournalBatchNumber", "SourceJournalLineNumber"
    ),
    "PaymentJournalLineSettledInvoices": JournalChildRules(
        "JournalLineCompany", "JournalBatchNumber", "JournalLineNumber"
    ),
    "FreeTextInvoiceHeaders": FreeTextHeaderRules(),
    "FreeTextInvoiceLines": FreeTextLineRules(),
    "CustomerCollectionsNotes": CollectionsNoteRules(),
}
_DEFAULT_RULES = EntityRules()


def rules_for(entity: EntityType) -> EntityRules:
    return RULES.get(entity.set_name, _DEFAULT_RULES)


def coerce_body(ctx: WriteContext, entity: EntityType, body: Any) -> dict[str, Any]:
    """Typed values of a JSON body; unknown properties are refused as F&O refuses them."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name.startswith("@odata.") or "@odata." in name:
            continue
        prop = entity.properties.get(name)
        if prop is None:
            raise bad_request(
                f"The property '{name}' does not exist on type '{entity.qualified_type}'. "
                "Make sure to only use property names that are defined by the type."
            )
        values[name] = coerce(prop, value, ctx.state.catalog)
    return values


def _refuse_read_only(ctx: WriteContext, entity: EntityType) -> None:
    if rules_for(entity).read_only:
        raise ctx.fail(
            entity,
            f"Error: {entity.set_name} is a read-only entity; records cannot be created, "
            "updated or deleted through it.",
        )


def _apply_company(ctx: WriteContext, entity: EntityType, values: dict[str, Any]) -> None:
    field = entity.company_property
    if field is None:
        return
    company = str(values.get(field) or ctx.company).lower()
    if company not in ctx.state.settings.companies:
        raise ctx.fail(entity, f"Error: Company '{company}' does not exist.")
    values[field] = company


def _assign_numbers(ctx: WriteContext, entity: EntityType, values: dict[str, Any]) -> None:
    for field, (sequence, pattern) in rules_for(entity).number_fields.items():
        if values.get(field):
            if not ctx.system and field not in ctx.state.settings.manual_number_fields:
                raise ctx.fail(
                    entity,
                    f"Error: Number sequence {sequence} does not allow manual entry; "
                    f"'{field}' is assigned by the system.",
                )
            continue
        number = ctx.state.store.next_number(sequence)
        company = str(values.get("dataAreaId", "")).upper()
        values[field] = pattern.format(n=number, company=company)


def _check_required(ctx: WriteContext, entity: EntityType, values: dict[str, Any]) -> None:
    for field in (*entity.keys, *REQUIRED.get(entity.set_name, ())):
        prop = entity.properties[field]
        if prop.kind == "str" and not values.get(field):
            raise ctx.fail(entity, *must_be_filled(entity, field))


def _duplicate(ctx: WriteContext, entity: EntityType, values: dict[str, Any]) -> ODataError:
    label, table = TABLE_LABELS.get(entity.set_name, (entity.set_name, entity.aot_name))
    key_text = ", ".join(str(values.get(k)) for k in entity.keys if k != "dataAreaId")
    return ctx.fail(
        entity,
        f"Info: Cannot create a record in {label} ({table}). {entity.keys[-1]}: {key_text}.\n"
        "The record already exists.",
    )


def create(ctx: WriteContext, entity: EntityType, body: Any) -> Record:
    """Insert a row built from ``body``, with defaults, numbers and validation."""
    _refuse_read_only(ctx, entity)
    values = coerce_body(ctx, entity, body)
    _apply_company(ctx, entity, values)
    _assign_numbers(ctx, entity, values)
    rules_for(entity).prepare_create(ctx, entity, values)
    _check_required(ctx, entity, values)
    if ctx.state.store.table(entity.set_name).get(values) is not None:
        raise _duplicate(ctx, entity, values)
    return ctx.state.store.insert(entity.set_name, values)


def check_etag(ctx: WriteContext, entity: EntityType, record: Record, if_match: str | None) -> None:
    settings = ctx.state.settings
    if not if_match or not settings.enforce_if_match:
        return
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and record.etag(entity.datasources) not in tags:
        raise precondition_failed(settings.precondition_failed_status)


def update(
    ctx: WriteContext, entity: EntityType, record: Record, body: Any, if_match: str | None
) -> Record:
    """PATCH (and PUT, which F&O treats the same way): merge ``body`` into the row."""
    _refuse_read_only(ctx, entity)
    check_etag(ctx, entity, record, if_match)
    changes = coerce_body(ctx, entity, body)
    for key in entity.keys:
        if key in changes and ctx.state.store.table(entity.set_name).key_of(
            {**record.values, key: changes[key]}
        ) != ctx.state.store.table(entity.set_name).key_of(record.values):
            raise bad_request(f"The key property '{key}' cannot be changed.")
        changes.pop(key, None)
    merged = {**record.values, **changes}
    rules_for(entity).check_update(ctx, entity, record.values, merged)
    _check_required(ctx, entity, merged)
    return ctx.state.store.replace(entity.set_name, record, merged)


def delete(ctx: WriteContext, entity: EntityType, record: Record, if_match: str | None) -> None:
    _refuse_read_only(ctx, entity)
    check_etag(ctx, entity, record, if_match)
    rules = rules_for(entity)
    rules.check_delete(ctx, entity, record.values)
    ctx.state.store.delete(entity.set_name, record)
    rules.after_delete(ctx, entity, record.values)
