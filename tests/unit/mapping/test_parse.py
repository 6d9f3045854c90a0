"""Reading templates: structure is checked before anything runs, errors name template and field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.domain import ConfigError
from payledger.mapping import TemplateError, load_template
from payledger.mapping.template import ConstSource, FirstOfSource, PathSource, TableArg

HEAD = """
template: sample
target: {system: d365, entity: CustomerPaymentJournalLines}
"""


def parse(fields: str, head: str = HEAD) -> object:
    return load_template(head + "fields:\n" + fields)


def error_of(fields: str, head: str = HEAD) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        parse(fields, head)
    return caught.value


def test_a_template_error_is_a_configuration_error_naming_template_and_field():
    error = error_of("  CreditAmount: {path: payment.amount, transfrom: money}\n")

    assert isinstance(error, ConfigError)
    assert (error.template, error.field) == ("sample", "CreditAmount")
    assert "unknown key 'transfrom'" in error.reason
    assert str(error).startswith("template sample, field CreditAmount:")


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        ("template: t\ntarget: {system: d365, entity: X}\nextra: 1\n", "unknown key 'extra'"),
        ("template: t\ntarget: {system: sap, entity: X}\n", "target system must be one of"),
        ("template: t\ntarget: {system: d365, entity: X, op: create}\n", "unknown key 'op'"),
        ("template: t\ntarget: {system: d365, entity: X, operation: upsert}\n", "create or update"),
        ("target: {system: d365, entity: X}\n", "needs a name"),
    ],
)
def test_template_level_mistakes_are_refused(head: str, reason: str):
    assert reason in error_of("  A: 1\n", head).reason


def test_a_template_needs_fields():
    with pytest.raises(TemplateError, match="maps no fields"):
        load_template(HEAD + "fields: {}\n")


def test_scalar_is_a_constant_and_yaml_no_yes_stay_text_and_decimals_stay_exact():
    template = parse("  IsPrepayment: No\n  Flag: Yes\n  Rate: 1.10\n  Day: 2025-03-05\n")

    values = [spec.value.source for spec in template.fields]
    assert values == [
        ConstSource("No"),
        ConstSource("Yes"),
        ConstSource(Decimal("1.10")),
        ConstSource("2025-03-05"),
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("  A: {path: a.b, const: 1}\n", "exactly one of"),
        ("  A: {optional: true}\n", "exactly one of"),
        ("  A: {path: a.b, transform: shout}\n", "unknown transform 'shout'"),
        ("  A: {path: a.b, transform: {money: {curency: USD}}}\n", "has no argument 'curency'"),
        ("  A: {path: a.b, transform: truncate}\n", "needs argument(s) length"),
        ("  A: {path: a.b, transform: {money: USD}}\n", "takes named arguments"),
        ("  A: {path: a.b, transform: {lookup: nowhere}}\n", "no table named 'nowhere'"),
        ("  A: {jsonata: 'payment.('}\n", "does not parse"),
        ("  A: {format: 'x-{a}', values: {b: 1}}\n", "uses ['a'] but values name ['b']"),
        ("  A: {format: 'x-{a.b}', values: {a: 1}}\n", "plain names"),
        ("  A: {if: {path: a.b}}\n", "needs a then"),
        ("  A: {if: {path: a.b, equals: 1, in: [1]}, then: 1}\n", "takes one of"),
        ("  A: {if: {path: a.b, in: 1}, then: 1}\n", "needs a list"),
        ("  A: {first_of: []}\n", "non-empty list"),
        ("  A: {path: a.b, optional: maybe}\n", "optional must be true or false"),
        ("  A: {path: a.b, max_length: 0}\n", "max_length must be"),
        ("  A: {path: a.b, on_overflow: wrap}\n", "on_overflow must be fail or truncate"),
    ],
)
def test_field_mistakes_are_refused_with_the_field_named(fields: str, reason: str):
    error = error_of(fields)
    assert error.field == "A"
    assert reason in error.reason


def test_a_single_required_argument_may_be_written_without_its_name():
    template = parse(
        "  A: {path: customer.name, transform: [{split_name: first}, {truncate: 5}]}\n"
    )

    steps = template.fields[0].value.steps
    assert [(step.name, list(step.args)) for step in steps] == [
        ("split_name", ["part"]),
        ("truncate", ["length"]),
    ]


def test_lookup_tables_are_named_or_inline_and_keyed_as_text():
    template = load_template(
        HEAD
        + "tables: {codes: {101: Approved, true: yes}}\n"
        + "fields:\n"
        + "  A: {path: p.code, transform: {lookup: codes}}\n"
        + "  B: {path: p.kind, transform: {lookup: {table: {sale: S}, default: X}}}\n"
    )

    named, inline = (spec.value.steps[0].args["table"] for spec in template.fields)
    assert named == TableArg("codes", {"101": "Approved", "true": "yes"})
    assert inline == TableArg(None, {"sale": "S"})


def test_field_options_are_read():
    template = parse(
        "  A:\n"
        "    first_of: [{path: a.b}, {path: c.d}]\n"
        "    default: x\n"
        "    max_length: 10\n"
        "    on_overflow: truncate\n"
        "    note: why\n"
        "  B: {path: a.b, optional: true}\n"
    )

    first, second = template.fields
    assert isinstance(first.value.source, FirstOfSource)
    assert first.default is not None and first.default.source == ConstSource("x")
    assert (first.max_length, first.on_overflow, first.note) == (10, "truncate", "why")
    assert second.optional and second.value.source == PathSource("a.b")


def test_invalid_yaml_is_a_template_error():
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_template("template: [unclosed\n", source="broken.yaml")
