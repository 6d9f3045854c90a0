"""Where each ``[d365]`` value lives in F&O, and how to find it there without writing.

A value is looked up where it is defined (its authority: a legal entity, a journal name, an
account). Where the environment does not expose that entity, it is looked for where it is in
use (methods of payment, journals, customers); found nowhere, it is either a failure or, when
F&O only checks it on the first write, reported as not verifiable rather than guessed.
Entity-set names come from ``[d365.entity_sets]`` and ``[d365.setup_entity_sets]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from payledger.adapters.d365 import D365Client, ODataQuery, ServiceMetadata, field
from payledger.config import Settings
from payledger.doctor.report import CONFIGURE, Finding, fail, ok, skip


@dataclass(frozen=True)
class Source:
    """Where a value can be read: an entity set and the property (first one present)."""

    entity_set: str
    properties: tuple[str, ...]
    company_scoped: bool = True


@dataclass(frozen=True)
class SetupValue:
    """A configured value to find in D365: where it is defined, where it would be in use."""

    name: str
    key: str
    """The ``[d365]`` key that holds it."""
    value: str
    authority: Source
    usage: tuple[Source, ...]
    missing_hint: str
    unverified_hint: str = ""
    """Empty: finding the value nowhere is a failure (e.g. a company with no setup at all)."""
    used_as: str = ""
    """The value as rows that use it hold it, when that differs (a ledger display value)."""


async def _exists(
    client: D365Client, metadata: ServiceMetadata, source: Source, value: str, company: str
) -> bool | None:
    """Whether a row has ``value``; None when this environment does not expose the source."""
    info = metadata.entity_sets.get(source.entity_set)
    prop = next((p for p in source.properties if info and p in info.properties), None)
    if info is None or prop is None:
        return None
    condition = field(prop).eq(value)
    if source.company_scoped and prop != "dataAreaId" and "dataAreaId" in info.properties:
        condition = field("dataAreaId").eq(company) & condition
    query = ODataQuery(source.entity_set).where(condition).select(prop)
    return await client.first(query) is not None


async def verify_value(
    client: D365Client, metadata: ServiceMetadata, company: str, item: SetupValue
) -> Finding:
    """Whether ``item`` exists where it is defined, else where it is in use."""
    if not item.value:
        return skip(CONFIGURE, item.name, f"[d365] {item.key} is empty", f"set [d365] {item.key}")
    authority = item.authority.entity_set
    found = await _exists(client, metadata, item.authority, item.value, company)
    if found is not None:
        if found:
            return ok(CONFIGURE, item.name, f"{item.value!r} exists ({authority})")
        detail = f"{item.value!r} not found in {authority} ({company})"
        return fail(CONFIGURE, item.name, detail, item.missing_hint)
    for source in item.usage:
        if await _exists(client, metadata, source, item.used_as or item.value, company):
            used = f"{source.entity_set}.{source.properties[0]}"
            detail = f"{item.value!r} found in {used} (no {authority} entity here to read it from)"
            return ok(CONFIGURE, item.name, detail)
    rows = " or ".join(f"{u.entity_set}.{u.properties[0]}" for u in item.usage)
    where = f"no {authority} entity here" + (f", and no {rows} has it" if rows else "")
    if not item.unverified_hint:
        detail = f"{item.value!r} not found: {where}"
        return fail(CONFIGURE, item.name, detail, item.missing_hint)
    detail = f"{item.value!r} unverified: {where} yet (doctor creates nothing to test it)"
    return skip(CONFIGURE, item.name, detail, item.unverified_hint)


def _main_account(display_value: str) -> str:
    """``618160-001--`` → ``618160``: the main account segment of a ledger display value."""
    return display_value.replace("\\-", "\0").split("-", 1)[0].replace("\0", "-")


def _account(settings: Settings, key: str, kind: str, value: str) -> SetupValue:
    sets, setup = settings.d365.entity_sets, settings.d365.setup_entity_sets
    usage = (
        Source(setup.payment_methods, ("PaymentAccountDisplayValue",)),
        Source(sets.payment_journal_lines, ("OffsetAccountDisplayValue",)),
        Source(sets.ledger_journal_lines, ("OffsetAccountDisplayValue",)),
    )
    bank = kind == "Bank"
    where = "Cash and bank management > Bank accounts" if bank else "the chart of accounts"
    authority = (
        Source(setup.bank_accounts, ("BankAccountId",))
        if bank
        else Source(setup.main_accounts, ("MainAccountId",), company_scoped=False)
    )
    return SetupValue(
        f"{key.replace('_', ' ')} ({kind})",
        key,
        value if bank else _main_account(value),
        authority,
        usage,
        f"create it in F&O ({where}) or correct [d365] {key}",
        f"F&O checks it on the first journal line; confirm it under {where}",
        value,
    )


def _payment_method(settings: Settings, name: str, key: str, value: str, hint: str) -> SetupValue:
    methods = Source(settings.d365.setup_entity_sets.payment_methods, ("Name",))
    create = "create it under Accounts receivable > Payment setup > Methods of payment, "
    return SetupValue(name, key, value, methods, (), create + hint)


def values_to_verify(settings: Settings) -> list[SetupValue]:
    """Every ``[d365]`` value the setup must hold, in the order the doctor reports them."""
    d, sets, setup = settings.d365, settings.d365.entity_sets, settings.d365.setup_entity_sets
    journal = Source(setup.journal_names, ("Name", "JournalName"))
    create = "create it under General ledger > Journal setup > Journal names, or correct [d365] "
    checked = "F&O checks it on the first journal header; confirm it in Journal names"
    by_company = ("dataAreaId",)
    methods = setup.payment_methods
    return [
        SetupValue(
            "company",
            "company",
            d.company,
            Source(setup.legal_entities, ("LegalEntityId",), company_scoped=False),
            (Source(methods, by_company), Source(sets.customers, by_company)),
            "set [d365] company to the legal entity's dataAreaId (e.g. usmf)",
        ),
        SetupValue(
            "payment journal name",
            "payment_journal_name",
            d.payment_journal_name,
            journal,
            (
                Source(methods, ("PaymentJournalName",)),
                Source(sets.payment_journal_headers, ("JournalName",)),
            ),
            create + "payment_journal_name (type Customer payment)",
            checked,
        ),
        SetupValue(
            "general journal name",
            "general_journal_name",
            d.general_journal_name,
            journal,
            (Source(sets.ledger_journal_headers, ("JournalName",)),),
            create + "general_journal_name (type Daily)",
            checked,
        ),
        _payment_method(
            settings,
            "method of payment",
            "payment_method",
            d.payment_method,
            "or correct [d365] payment_method",
        ),
        *(
            [
                _payment_method(
                    settings,
                    "ACH method of payment",
                    "ach_payment_method",
                    d.ach_payment_method,
                    "or correct [d365] ach_payment_method (empty: payment_method)",
                )
            ]
            if d.ach_payment_method
            else []
        ),
        _account(settings, "clearing_account", d.clearing_account_type, d.clearing_account),
        _account(settings, "deposit_account", d.deposit_account_type, d.deposit_account),
        _account(settings, "fee_account", "Ledger", d.fee_account),
        SetupValue(
            "customer group",
            "customer_group",
            d.customer_group,
            Source(setup.customer_groups, ("CustomerGroupId",)),
            (Source(sets.customers, ("CustomerGroupId",)),),
            "create it under Accounts receivable > Setup > Customer groups, or correct "
            "[d365] customer_group",
            "F&O checks it when payledger creates the first customer",
        ),
    ]
