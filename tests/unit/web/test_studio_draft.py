"""The studio's draft edits: one field's block replaced in the YAML text and every bad edit
refused before it reaches the draft, naming the field and the reason (docs/mapping.md,
"Studio")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from payledger.config import Settings
from payledger.mapping import EntitySchema, StaticCatalog, load_template
from payledger.mapping.defaults import example_settings
from payledger.templates import seed_sources
from payledger.web.console.routes_studio_draft import FieldEdit, apply_edit, lint, set_field
from tests.unit.mapping.catalog import fixture_catalog

NAME = "d365_payment_journal_line"
SETTINGS = example_settings()
CATALOG = fixture_catalog()


@pytest.fixture(scope="module")
def seed() -> str:
    return seed_sources(Settings())[NAME]


def edited(seed: str, edit: FieldEdit, *, drop: bool = False) -> tuple[str, list[str]]:
    return apply_edit(NAME, seed, edit, CATALOG, SETTINGS, drop=drop)


def test_the_seed_is_clean_against_the_catalog(seed):
    assert lint(NAME, seed, CATALOG, SETTINGS) == []


def test_an_edit_replaces_one_field_and_leaves_every_other_line_as_written(seed):
    body, errors = edited(
        seed, FieldEdit("PaymentId", "jsonata", expression='"P-" & payment.gateway_txn_id')
    )
    assert errors == []
    assert "  PaymentId: {jsonata: '\"P-\" & payment.gateway_txn_id'}" in body
    changed = [line for line in body.splitlines() if line not in seed.splitlines()]
    assert len(changed) == 1
    assert len(body.splitlines()) == len(seed.splitlines())
    template = load_template(body)
    assert [spec.target for spec in template.fields] == [
        spec.target for spec in load_template(seed).fields
    ]


def test_a_multi_line_field_is_replaced_whole_and_a_new_field_is_appended(seed):
    body = set_field(seed, "AccountDisplayValue", {"path": "customer.account"})
    assert "first_of" not in body.split("TransactionDate")[0].split("AccountDisplayValue")[1]
    body = set_field(body, "Voucherless", {"path": "payment.kind", "optional": True})
    fields = [spec.target for spec in load_template(body).fields]
    assert fields[-1] == "Voucherless" and fields.count("AccountDisplayValue") == 1


def test_a_transform_with_its_parameters_is_written_as_the_template_format_wants(seed):
    edit = FieldEdit("PaymentNotes", "transform", path="payment.message", transform="truncate",
                     params="60", optional=True)  # fmt: skip
    body, errors = edited(seed, edit)
    assert errors == []
    assert (
        "  PaymentNotes: {path: payment.message, transform: {truncate: 60}, optional: true}" in body
    )


@pytest.mark.parametrize(
    ("edit", "drop", "reason"),
    [
        (FieldEdit("PaymentNotes", "jsonata", expression="$uppercase(payment.message"),
         False, "does not parse: Expected )"),
        (FieldEdit("PaymentNotes", "transform", path="payment.message", transform="truncate",
                   params="width: 60"), False, "has no parameter width"),
        (FieldEdit("PaymentNotes", "transform", path="payment.message", transform="shout"),
         False, "unknown transform 'shout'"),
        (FieldEdit("DebitAmount", "transform", path="payment.amount", transform="journal_amount",
                   params="side: debit"), False, "kind"),
        (FieldEdit("PaymentChannel", "path", path="payment.kind"),
         False, "CustomerPaymentJournalLines has no property PaymentChannel in $metadata"),
        (FieldEdit("CreditAmount", "path", path="payment.occurred_at"),
         False, "produces datetime, but the target is decimal"),
        (FieldEdit("LineNumber"), True, "key LineNumber is not mapped"),
        (FieldEdit("PaymentNotes", "path", path=" "), False, "give the source path"),
        (FieldEdit("PaymentNotes", "path", path="payment.nothing_here"),
         False, "unknown source path payment.nothing_here"),
    ],
    ids=["invalid jsonata", "unknown parameter", "unknown transform", "missing parameter",
         "not in $metadata", "type cannot fit", "drops a key", "no source", "unknown source"],
)  # fmt: skip
def test_a_bad_edit_is_refused_with_the_reason_and_the_draft_is_unchanged(seed, edit, drop, reason):
    body, errors = edited(seed, edit, drop=drop)
    assert body == seed
    assert errors and any(reason in error for error in errors), errors


def test_dropping_a_mandatory_field_is_refused(seed):
    lines = CATALOG.entity("d365", "CustomerPaymentJournalLines")
    mandatory = replace(lines.properties["CurrencyCode"], required=True)
    catalog = StaticCatalog.of(
        CATALOG.entities,
        [EntitySchema(lines.name, {**lines.properties, "CurrencyCode": mandatory})],
    )
    body, errors = apply_edit(NAME, seed, FieldEdit("CurrencyCode"), catalog, SETTINGS, drop=True)
    assert body == seed
    assert errors == ["required property CurrencyCode is not mapped"]


def test_dropping_an_optional_field_is_applied(seed):
    body, errors = edited(seed, FieldEdit("PaymentNotes"), drop=True)
    assert errors == [] and "PaymentNotes" not in body
