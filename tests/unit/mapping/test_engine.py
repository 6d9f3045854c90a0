"""Running compiled templates: values, settings, conditions, and records that cannot be mapped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.domain import MappingError
from payledger.mapping import (
    FieldMappingError,
    TemplateError,
    compile_template,
    default_template,
    load_template,
)
from tests.unit.mapping.catalog import fixture_catalog
from tests.unit.mapping.golden_cases import settings

SETTINGS = {
    "company": "usmf",
    "timezone": "America/Los_Angeles",
    "fields": {"status": "PaymentStatus"},
    "titles": {"order": "D365 Order"},
}


def compiled(fields: str, *, system: str = "d365", entity: str = "X", catalog=None, extra=""):
    text = f"template: sample\ntarget: {{system: {system}, entity: {entity}}}\n{extra}fields:\n"
    return compile_template(load_template(text + fields), SETTINGS, catalog)


def mapping_error(template, document) -> FieldMappingError:
    with pytest.raises(FieldMappingError) as caught:
        template.map(document)
    return caught.value


def test_paths_settings_and_constants():
    template = compiled(
        "  dataAreaId: {path: settings.company}\n"
        "  Amount: {path: payment.amount}\n"
        "  Line: {path: customer.address.lines.1}\n"
        "  Kind: Cust\n"
    )
    document = {
        "payment": {"amount": Decimal("125.50")},
        "customer": {"address": {"lines": ["1 Main St", "Suite 5"]}},
    }

    assert template.map(document) == {
        "dataAreaId": "usmf",
        "Amount": Decimal("125.50"),
        "Line": "Suite 5",
        "Kind": "Cust",
    }


def test_a_missing_required_value_parks_the_record_naming_template_field_and_source():
    template = compiled("  CreditAmount: {path: payment.amount, transform: money}\n")

    error = mapping_error(template, {"payment": {}})

    assert isinstance(error, MappingError)
    assert (error.template, error.field) == ("sample", "CreditAmount")
    assert "required value is missing (from payment.amount)" in error.reason


def test_empty_text_counts_as_missing():
    template = compiled("  Account: {path: customer.account}\n")

    assert "missing" in mapping_error(template, {"customer": {"account": ""}}).reason


def test_default_fills_and_optional_leaves_out():
    template = compiled(
        "  Notes: {path: payment.message, default: none given}\n"
        "  Invoice: {path: invoice.number, optional: true}\n"
        "  Kind: {path: payment.kind}\n"
    )

    assert template.map({"payment": {"kind": "sale"}}) == {"Notes": "none given", "Kind": "sale"}


def test_a_value_of_the_wrong_type_is_a_mapping_error():
    template = compiled("  CreditAmount: {path: payment.amount, transform: money}\n")

    error = mapping_error(template, {"payment": {"amount": "12,50"}})

    assert error.field == "CreditAmount"
    assert "'12,50' is not a number" in error.reason


def test_a_path_through_a_non_object_is_a_mapping_error():
    template = compiled("  City: {path: customer.address.city}\n")

    error = mapping_error(template, {"customer": {"address": "1 Main St"}})

    assert "cannot read 'city'" in error.reason


def test_a_failing_jsonata_expression_is_a_mapping_error():
    template = compiled("  Total: {jsonata: 'payment.amount + payment.kind'}\n")

    error = mapping_error(template, {"payment": {"amount": Decimal("1.5"), "kind": "sale"}})

    assert error.field == "Total"
    assert "JSONata expression" in error.reason


def test_jsonata_sees_numbers_and_settings_and_returns_decimals():
    template = compiled(
        "  Total: {jsonata: '$sum(order.lines.total)', transform: money}\n"
        "  Company: {jsonata: '$uppercase(settings.company)'}\n"
    )
    document = {"order": {"lines": [{"total": Decimal("1.10")}, {"total": Decimal("2.20")}]}}

    assert template.map(document) == {"Total": Decimal("3.30"), "Company": "USMF"}


def test_an_authorization_posts_no_payment_line():
    template = compile_template(default_template("d365_payment_journal_line"), settings())
    document = {
        "payment": {
            "gateway_txn_id": "1",
            "kind": "authorization",
            "amount": Decimal("5.00"),
            "currency": "USD",
            "occurred_at": "2025-03-05T03:04:05Z",
        },
        "customer": {"account": "US-001"},
        "context": {
            "journal_batch_number": "00631",
            "line_number": 1,
            "operation": "authorization",
            "payment_reference": "PT-1-AUT",
        },
    }

    error = mapping_error(template, document)

    assert error.field == "CreditAmount"
    assert "'authorization' posts no journal line" in error.reason


@pytest.mark.parametrize(
    ("condition", "document", "expected"),
    [
        ("{path: p.kind, equals: sale}", {"p": {"kind": "sale"}}, "then"),
        ("{path: p.kind, not_equals: sale}", {"p": {"kind": "sale"}}, "else"),
        ("{path: p.code, equals: 101}", {"p": {"code": "101"}}, "then"),
        ("{path: p.amount, equals: 1.5}", {"p": {"amount": Decimal("1.50")}}, "then"),
        ("{path: p.kind, in: [refund, void]}", {"p": {"kind": "void"}}, "then"),
        ("{path: p.kind, not_in: [refund, void]}", {"p": {"kind": "void"}}, "else"),
        ("{path: p.kind, present: true}", {"p": {"kind": ""}}, "else"),
        ("{path: p.kind, present: false}", {}, "then"),
        ("{path: p.flag}", {"p": {"flag": False}}, "else"),
        ("{not: {path: p.flag}}", {"p": {"flag": False}}, "then"),
        ("{all: [{path: p.a}, {path: p.b}]}", {"p": {"a": 1, "b": 0}}, "else"),
        ("{any: [{path: p.a}, {path: p.b}]}", {"p": {"a": 0, "b": 1}}, "then"),
    ],
)
def test_conditions(condition: str, document: dict, expected: str):
    template = compiled(f"  R: {{if: {condition}, then: then, else: else}}\n")

    assert template.map(document) == {"R": expected}


def test_an_if_without_else_is_missing_when_false():
    template = compiled("  R: {if: {path: p.flag}, then: yes, optional: true}\n")

    assert template.map({"p": {"flag": False}}) == {}


def test_first_of_skips_missing_and_empty_values():
    template = compiled("  Account: {first_of: [{path: a.x}, {path: a.y}, {path: a.z}]}\n")

    assert template.map({"a": {"x": None, "y": "", "z": "US-001"}}) == {"Account": "US-001"}


def test_format_is_missing_when_one_of_its_values_is():
    template = compiled(
        "  Ref: {format: 'PT-{txn}-{kind}', values: {txn: {path: p.id}, kind: {path: p.kind}},"
        " optional: true}\n"
    )

    assert template.map({"p": {"id": "12", "kind": "sale"}}) == {"Ref": "PT-12-sale"}
    assert template.map({"p": {"id": "12"}}) == {}


def test_a_missing_lookup_key_without_default_is_a_mapping_error():
    template = compiled(
        "  Type: {path: p.kind, transform: {lookup: kinds}}\n", extra="tables: {kinds: {sale: S}}\n"
    )

    assert template.map({"p": {"kind": "sale"}}) == {"Type": "S"}
    assert (
        "'void' is not in the lookup table"
        in mapping_error(template, {"p": {"kind": "void"}}).reason
    )


def test_configured_names_resolve_in_targets_and_paths():
    template = compiled(
        "  ${settings.fields.status}: {path: 'order.${settings.fields.status}'}\n"
        "  discretionary_data.${settings.titles.order}: {path: order.number}\n"
        "  ${settings.fields.not_configured}: {path: order.number, optional: true}\n",
        system="paytrace",
    )

    payload = template.map({"order": {"number": "001261", "PaymentStatus": "Paid"}})

    assert payload == {"PaymentStatus": "Paid", "discretionary_data": {"D365 Order": "001261"}}
    assert [target for target, _ in template.skipped] == ["${settings.fields.not_configured}"]


def test_a_required_field_naming_an_unconfigured_setting_does_not_compile():
    with pytest.raises(TemplateError, match=r"needs setting settings\.fields\.nothing"):
        compiled("  ${settings.fields.nothing}: 1\n")


def test_a_transform_argument_from_an_unconfigured_setting_does_not_compile():
    with pytest.raises(TemplateError, match="argument currency has no value"):
        compiled("  A: {path: p.a, transform: {money: {currency: {path: settings.currency}}}}\n")


def test_constants_that_fail_their_transforms_do_not_compile():
    with pytest.raises(TemplateError, match="fails on constant"):
        compiled("  A: {const: abc, transform: to_decimal}\n")


def test_the_same_target_twice_does_not_compile():
    with pytest.raises(TemplateError, match="maps PaymentStatus twice"):
        compiled("  PaymentStatus: 1\n  ${settings.fields.status}: 2\n")


def test_with_a_catalog_values_are_checked_against_the_target_at_run_time():
    template = compiled(
        "  CreditAmount: {path: context.amount}\n"
        "  AccountType: {path: context.account_type}\n"
        "  TransactionText: {path: context.text, on_overflow: truncate}\n"
        "  PaymentReference: {path: context.reference}\n",
        entity="CustomerPaymentJournalLines",
        catalog=fixture_catalog(),
    )
    good = {"amount": Decimal("1.00"), "account_type": "Cust", "text": "x" * 70, "reference": "r"}

    assert template.map({"context": good})["TransactionText"] == "x" * 60
    wrong_type = mapping_error(template, {"context": {**good, "amount": "1.00"}})
    assert "expected a decimal value, got str '1.00'" in wrong_type.reason
    wrong_member = mapping_error(template, {"context": {**good, "account_type": "Customer"}})
    assert "'Customer' is not one of Ledger, Cust" in wrong_member.reason
    too_long = mapping_error(template, {"context": {**good, "reference": "r" * 61}})
    assert (too_long.field, too_long.reason) == (
        "PaymentReference",
        "61 characters exceed the maximum length of 60",
    )


def test_a_constant_that_does_not_fit_its_target_does_not_compile_with_a_catalog():
    with pytest.raises(TemplateError, match="'Customer' is not one of"):
        compiled("  AccountType: Customer\n", entity="CustomerPaymentJournalLines",
                 catalog=fixture_catalog())  # fmt: skip


def test_a_field_may_declare_its_own_maximum_length():
    template = compiled("  A: {path: p.a, max_length: 3}\n  B: {path: p.a, max_length: 3, "
                        "on_overflow: truncate}\n")  # fmt: skip

    assert "exceed the maximum length of 3" in mapping_error(template, {"p": {"a": "abcd"}}).reason
    assert compiled("  B: {path: p.a, max_length: 3, on_overflow: truncate}\n").map(
        {"p": {"a": "abcd"}}
    ) == {"B": "abc"}


def test_compiled_template_tells_the_flow_what_to_fetch():
    template = compile_template(default_template("paytrace_transaction_request"), settings())

    assert (template.system, template.entity) == ("paytrace", "transaction_request")
    assert template.needs == ("d365_customer", "d365_order")
