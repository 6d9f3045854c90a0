"""Validation against the schema catalog: each problem names the template, field and reason."""

from __future__ import annotations

import pytest

from payledger.domain import ConfigError
from payledger.mapping import (
    Issue,
    TemplateInvalid,
    check_templates,
    default_templates,
    load_template,
    title_issues,
    validate_template,
    validate_templates,
)
from tests.unit.mapping.catalog import fixture_catalog
from tests.unit.mapping.golden_cases import settings

LINE_KEYS = """
  dataAreaId: {path: settings.company}
  JournalBatchNumber: {path: context.journal_batch_number}
  LineNumber: {path: context.line_number, transform: to_decimal}
"""


def issues_of(fields: str, *, head: str = "", entity: str = "CustomerPaymentJournalLines"):
    text = (
        f"template: sample\ntarget: {{system: d365, entity: {entity}}}\n{head}"
        f"fields:\n{LINE_KEYS if entity == 'CustomerPaymentJournalLines' else ''}{fields}"
    )
    return validate_template(load_template(text), fixture_catalog(), settings())


def reasons(issues: list[Issue]) -> list[tuple[str, str]]:
    return [(issue.field, issue.reason) for issue in issues]


def test_default_templates_validate_against_the_appendix_a_catalog():
    assert validate_templates(default_templates().values(), fixture_catalog(), settings()) == []


def test_a_valid_template_has_no_issues():
    assert issues_of("  AccountType: Cust\n  CreditAmount: {path: payment.amount}\n") == []


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ("  Amount: 1\n", "Amount", "CustomerPaymentJournalLines has no property Amount"),
        ("  Voucher: V1\n", "Voucher", "CustomerPaymentJournalLines.Voucher is read-only"),
        ("  AccountType: Customer\n", "AccountType", "'Customer' is not a member"),
        (
            "  AccountType: {path: payment.kind, transform: {lookup: {table: {sale: Cust, "
            "refund: Client}}}}\n",
            "AccountType",
            "'Client' is not a member",
        ),
        ("  IsPrepayment: {path: customer.is_organization, transform: yes_no}\n", "", ""),
        ("  CreditAmount: {path: payment.message}\n", "CreditAmount", "produces string"),
        ("  TransactionDate: {path: payment.amount}\n", "TransactionDate", "produces decimal"),
        ("  CurrencyCode: USDX\n", "CurrencyCode", "longer than the maximum 3"),
        ("  PaymentId: {path: payment.txn}\n", "PaymentId", "unknown source path payment.txn"),
        ("  PaymentId: {path: stripe.id}\n", "PaymentId", "unknown source path stripe.id"),
        (
            "  PaymentId: {path: payment.amount, transform: upper}\n",
            "PaymentId",
            "transform upper takes enum, guid, string, but gets decimal",
        ),
        (
            "  TransactionText: {path: settings.d365.journal_text}\n",
            "TransactionText",
            "setting d365.journal_text is not configured",
        ),
        (
            "  PaymentId: {path: enrich.d365_customer.CustomerAccount}\n",
            "PaymentId",
            "reads lookup d365_customer, which the template's needs do not list",
        ),
        (
            "  PaymentId: {path: enrich.crm.Id}\n",
            "PaymentId",
            "enrich.crm.Id: unknown lookup",
        ),
    ],
)
def test_field_problems(fields: str, field: str, reason: str):
    found = reasons(issues_of(fields))
    if not reason:
        assert found == []
    else:
        assert any(f == field and reason in r for f, r in found), found


def test_optional_fields_may_read_settings_that_are_not_configured():
    assert issues_of("  TransactionText: {path: settings.d365.text, optional: true}\n") == []


def test_enrichment_properties_are_checked_against_the_looked_up_entity():
    found = issues_of(
        "  PaymentId: {path: enrich.d365_customer.CustomerAcount}\n",
        head="needs: [d365_customer]\n",
    )
    assert reasons(found) == [
        ("PaymentId", "enrich.d365_customer.CustomerAcount: CustomersV3 has no property "
                      "CustomerAcount"),
    ]  # fmt: skip


def test_unknown_lookups_in_needs_are_reported():
    found = issues_of("", head="needs: [d365_vendor]\n")
    assert [issue.reason for issue in found] == [
        "needs names unknown lookup 'd365_vendor' (known: d365_customer, d365_order, d365_invoice)"
    ]


def test_keys_must_be_mapped_or_assigned_by_the_server():
    found = issues_of("  Description: x\n", entity="CustomerPaymentJournalHeaders")
    assert reasons(found) == [
        ("", "key dataAreaId is not mapped (map it or list it under server_assigned)"),
        ("", "key JournalBatchNumber is not mapped (map it or list it under server_assigned)"),
    ]
    assigned = "target: {system: d365, entity: X, server_assigned: [JournalBatchNumber]}\n"
    text = f"template: h\n{assigned}fields:\n  dataAreaId: usmf\n".replace(
        "entity: X", "entity: CustomerPaymentJournalHeaders"
    )
    assert validate_template(load_template(text), fixture_catalog(), settings()) == []


def test_required_properties_must_be_mapped_when_creating():
    text = (
        "template: c\ntarget: {system: d365, entity: CustomersV3, server_assigned: "
        "[CustomerAccount]}\nfields:\n  dataAreaId: usmf\n"
        "  CustomerGroupId: {path: settings.d365.customer_group, optional: true}\n"
    )
    found = validate_template(load_template(text), fixture_catalog(), settings())
    assert sorted(reasons(found)) == [
        ("", "required property SalesCurrencyCode is not mapped"),
        ("CustomerGroupId", "required property is optional in the template"),
    ]


def test_keys_of_an_update_may_not_be_optional():
    text = (
        "template: u\ntarget: {system: d365, entity: SalesOrderHeadersV2, operation: update}\n"
        "fields:\n  dataAreaId: usmf\n  SalesOrderNumber: {path: order.number, optional: true}\n"
    )
    found = validate_template(load_template(text), fixture_catalog(), settings())
    assert reasons(found) == [
        ("SalesOrderNumber", "a key cannot be optional in an update template")
    ]


def test_an_unknown_target_entity_is_reported():
    found = issues_of("  A: 1\n", entity="CustomerPaymentJournalLinez")
    assert reasons(found) == [("", "target d365 entity CustomerPaymentJournalLinez does not exist")]


def test_a_required_target_named_by_an_unconfigured_setting_is_reported():
    found = issues_of("  ${settings.d365.fields.nope}: 1\n")
    assert reasons(found) == [
        (
            "${settings.d365.fields.nope}",
            "the target name needs setting settings.d365.fields.nope, which is not configured",
        )
    ]


def test_discretionary_titles_must_be_configured_in_paytrace():
    text = (
        "template: p\ntarget: {system: paytrace, entity: transaction_request}\nfields:\n"
        "  amount: {path: payment.amount}\n"
        "  discretionary_data.D365 Project: {path: order.number}\n"
    )
    found = validate_template(load_template(text), fixture_catalog(), settings())
    assert reasons(found) == [
        (
            "discretionary_data.D365 Project",
            "discretionary data title 'D365 Project' is not configured in PayTrace",
        )
    ]


def test_at_most_six_discretionary_titles():
    titles = tuple(f"Field {n}" for n in range(7))
    template = default_templates()["paytrace_transaction_request"]
    found = validate_template(template, fixture_catalog(titles), settings())
    assert ("discretionary_data", "PayTrace allows at most 6 discretionary data fields; "
            "7 are configured") in reasons(found)  # fmt: skip
    assert [issue.reason for issue in title_issues("config", ["", "x" * 51, "a.b"])] == [
        "discretionary title '' must be 1-50 characters without dots",
        f"discretionary title '{'x' * 51}' must be 1-50 characters without dots",
        "discretionary title 'a.b' must be 1-50 characters without dots",
    ]


def test_check_templates_raises_one_configuration_error_listing_every_issue():
    broken = load_template(
        "template: broken\ntarget: {system: d365, entity: CustomerPaymentJournalLines}\n"
        "fields:\n  Amount: 1\n  Voucher: V\n"
    )
    with pytest.raises(TemplateInvalid) as caught:
        check_templates([broken], fixture_catalog(), settings())

    error = caught.value
    assert isinstance(error, ConfigError)
    assert len(error.issues) == 5
    assert "template broken, field Amount: CustomerPaymentJournalLines has no property Amount" in (
        str(error)
    )
