"""The mapping suggester: which source a target field should read, and why."""

from __future__ import annotations

import time
from decimal import Decimal

from payledger.mapping import FieldType, default_templates, example_settings, parse_template
from payledger.mapping.suggest import suggest
from payledger.mapping.suggest_fields import (
    KnownMappings,
    SourceField,
    TargetField,
    source_fields,
    target_fields,
    unmapped,
)
from payledger.mapping.suggest_profiles import Profile, profile_of
from tests.unit.mapping.catalog import fixture_catalog


def sources(**columns: list[object]) -> list[SourceField]:
    """Source fields from sample documents; ``a__b=[...]`` is the path ``a.b``'s values."""
    count = max(len(values) for values in columns.values())
    documents: list[dict[str, object]] = [{} for _ in range(count)]
    for name, values in columns.items():
        *sections, leaf = name.split("__")
        for document, value in zip(documents, values, strict=False):
            node = document
            for section in sections:
                node = node.setdefault(section, {})  # type: ignore[assignment]
            node[leaf] = value
    return source_fields(documents)


def ranked(target: TargetField, found: list[SourceField], known: KnownMappings | None = None):
    return suggest([target], found, known, top=5)[target.name]


def first(target: TargetField, found: list[SourceField], known: KnownMappings | None = None):
    return ranked(target, found, known)[0]


def test_a_synonym_finds_the_transaction_id_for_a_payment_id():
    found = sources(
        payment__gateway_txn_id=["125391271", "125391278"],
        payment__message=["Approved.", "Approved."],
        payment__kind=["sale", "refund"],
    )

    best = first(TargetField("PaymentId", FieldType.STRING, 60), found)

    assert best.source == "payment.gateway_txn_id"
    assert "transaction" in best.reason


def test_zip_and_postal_code_are_the_same_thing():
    found = sources(
        customer__address__postal_code=["98052", "99201"],
        customer__address__city=["Seattle", "Spokane"],
    )

    best = first(TargetField("AddressZipCode", FieldType.STRING, 10), found)

    assert best.source == "customer.address.postal_code"
    assert "values look like ZIP code" in best.reason


def test_a_source_of_the_wrong_type_ranks_below_one_that_fits():
    found = sources(
        context__transaction_date=[True, False],
        payment__occurred_at=["2025-03-05T03:04:05Z", "2025-03-06T10:00:00Z"],
    )

    order = ranked(TargetField("TransactionDate", FieldType.DATETIME), found)

    assert [c.source for c in order] == ["payment.occurred_at", "context.transaction_date"]
    assert "boolean cannot fill a datetime field" in order[1].reason


def test_values_too_long_for_the_field_rank_lower_and_say_so():
    found = sources(
        customer__account=["US-001", "US-002"],
        context__customer_account=["a customer account far longer than twenty", "x" * 30],
    )

    order = ranked(TargetField("CustomerAccount", FieldType.STRING, max_length=20), found)

    assert order[0].source == "customer.account"
    assert "values up to 41 characters, the field holds 20" in order[1].reason


def test_iso_currencies_are_told_from_other_codes():
    found = sources(context__code_a=["A17", "B22", "C03"], context__code_b=["USD", "EUR", "USD"])

    best = first(TargetField("CurrencyCode", FieldType.STRING, 3), found)

    assert best.source == "context.code_b"
    assert "values look like ISO currency" in best.reason


def test_dates_and_amounts_are_recognised_by_their_values():
    found = sources(
        context__first=["2025-04-04", "2025-05-01"],
        context__second=[Decimal("125.50"), Decimal("20.00")],
        context__third=["north", "south"],
    )

    due = first(TargetField("DueDate", FieldType.DATE), found)
    fee = first(TargetField("FeeAmount", FieldType.DECIMAL), found)

    assert (due.source, fee.source) == ("context.first", "context.second")
    assert "values look like date" in due.reason
    assert "values look like amount" in fee.reason


def test_a_masked_card_goes_to_a_masked_card_field_and_nowhere_else():
    found = sources(
        payment__token__masked_card=["xxxxxxxxxxxx5439", "xxxxxxxxxxxx0057"],
        payment__message=["Approved.", "Declined."],
    )

    card = first(TargetField("MaskedCardNumber", FieldType.STRING, 20), found)
    text = first(TargetField("Description", FieldType.STRING, 60), found)

    assert card.source == "payment.token.masked_card"
    assert "values look like masked card" in card.reason
    assert text.source == "payment.message"


def test_profiles_need_most_values_to_agree():
    assert profile_of(["USD", "EUR", "GBP"]) is Profile.CURRENCY
    assert profile_of(["ap@acme.example", "x@example.com"]) is Profile.EMAIL
    assert profile_of(["USD", "hello", "world"]) is Profile.TEXT
    assert profile_of([None, ""]) is None


def _template(name: str, entity: str, fields: str):
    return parse_template(
        {"template": name, "target": {"system": "d365", "entity": entity}, "fields": fields}
    )


def test_what_another_template_maps_is_proposed_and_named():
    other = _template("my_orders", "SalesOrderHeadersV2", {"Priority": {"path": "context.b"}})
    found = sources(context__a=["1", "2"], context__b=["3", "4"])
    known = KnownMappings.from_templates([other])

    best = first(TargetField("Priority", FieldType.STRING), found, known)

    assert best.source == "context.b"
    assert "mapped to Priority by template my_orders" in best.reason


def test_known_mappings_hold_only_the_templates_given():
    templates = default_templates()
    left_out = [t for t in templates.values() if t.target.entity != "CustomersV3"]

    known = KnownMappings.from_templates(left_out, example_settings())

    every = {name for pairs in known.pairs.values() for _, name in pairs}
    assert "d365_customer" not in every and "d365_customer_from_paytrace" not in every
    assert known.templates_mapping("PrimaryContactEmail", "customer.email") == []
    assert "paytrace_customer_profile" in every


def test_settings_and_constants_are_not_known_mappings():
    known = KnownMappings.from_templates([default_templates()["d365_payment_journal_line"]])

    assert "dataAreaId" not in known.pairs
    assert "AccountType" not in known.pairs
    assert known.pairs["PaymentId"] == (("payment.gateway_txn_id", "d365_payment_journal_line"),)


def test_targets_come_from_the_schema_with_extension_fields_marked():
    customers = fixture_catalog().entity("d365", "CustomersV3")
    assert customers is not None

    targets = {t.name: t for t in target_fields(customers, ["PayTraceCustomerId"])}

    assert targets["PayTraceCustomerId"].extension
    assert not targets["CustomerAccount"].extension and targets["CustomerAccount"].key
    assert targets["CustomerGroupId"].mandatory
    assert "PartyNumber" not in targets  # read-only: no template may write it


def test_a_template_leaves_only_its_unmapped_fields_to_suggest():
    customers = fixture_catalog().entity("d365", "CustomersV3")
    assert customers is not None
    template = default_templates()["d365_customer"]

    left = {t.name for t in unmapped(target_fields(customers), template, example_settings())}

    assert "PrimaryContactEmail" not in left and "PayTraceCustomerId" not in left
    assert "CreditLimit" in left


def test_list_items_of_objects_are_not_sources_but_lines_of_text_are():
    found = sources(
        customer__address__lines=[["1 Main St", "Suite 5"]],
        order__lines=[[{"item_number": "D0001"}]],
    )

    assert [f.path for f in found] == ["customer.address.lines"]
    assert found[0].type is FieldType.LIST


def test_each_target_field_takes_well_under_50_ms():
    customers = fixture_catalog().entity("d365", "CustomersV3")
    assert customers is not None
    targets = target_fields(customers)
    found = sources(
        **{f"s{n}__field_{n}_name": [f"value {n}", f"other {n}"] for n in range(60)},
    )

    started = time.perf_counter()
    result = suggest(targets, found, KnownMappings.from_templates(default_templates().values()))
    per_field_ms = (time.perf_counter() - started) * 1000 / len(targets)

    assert len(result) == len(targets) > 250
    assert all(len(candidates) == 3 for candidates in result.values())
    assert per_field_ms < 50
