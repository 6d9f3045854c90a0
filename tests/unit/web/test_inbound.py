"""Helpers every ingest endpoint uses to refuse hostile input with a clear 4xx."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import pytest
from pydantic import Field, TypeAdapter

from payledger.web.inbound import (
    MAX_PROBLEMS,
    NonNegativeAmount,
    PositiveAmount,
    StrictModel,
    amount_in,
    inline_schema,
    parse_json_object,
    refused_request,
    require_json_content,
    validate,
)
from payledger.web.problems import ApiProblem


class Line(StrictModel):
    sku: str
    amount: PositiveAmount


class Order(StrictModel):
    kind: Literal["sale", "authorization"]
    quantity: int = Field(gt=0)
    lines: list[Line]


def refused(call, *args):
    with pytest.raises(ApiProblem) as problem:
        call(*args)
    return problem.value


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b'{"kind": "sale"', "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[1, 2]", "JSON object, not a JSON list"),
        (b'"text"', "JSON object, not a JSON str"),
        (b'{"amount": NaN}', "not valid JSON"),
        (b'{"amount": Infinity}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(body, says):
    problem = refused(parse_json_object, body)
    assert (problem.status, problem.error) == (400, "malformed_json")
    assert says in problem.detail


def test_fractions_are_parsed_as_decimals_never_floats():
    assert parse_json_object(b'{"amount": 0.1}') == {"amount": Decimal("0.1")}


def test_only_json_content_is_accepted():
    require_json_content({"content-type": "application/json; charset=utf-8"})
    require_json_content({"content-type": "application/merge-patch+json"})
    problem = refused(require_json_content, {"content-type": "text/plain"})
    assert (problem.status, problem.error) == (415, "unsupported_media_type")
    assert "text/plain" in problem.detail


def test_schema_problems_are_422_naming_every_field_without_echoing_values():
    document = {
        "kind": "refund-everything",
        "quantity": "3",
        "lines": [{"sku": "A", "amount": "-5.00"}, {"sku": "B", "amount": "abc", "note": "x"}],
    }
    problem = refused(validate, Order, document)
    assert (problem.status, problem.error) == (422, "invalid_body")
    fields = [p["field"] for p in problem.extra["problems"]]
    assert fields == [
        "body.kind",
        "body.quantity",
        "body.lines.0.amount",
        "body.lines.1.amount",
        "body.lines.1.note",
    ]
    assert "refund-everything" not in str(problem.body())


@pytest.mark.parametrize(
    ("given", "expected"),
    [("25.00", Decimal("25.00")), ("25", Decimal(25)), (Decimal("0.5"), Decimal("0.5")), (7, 7)],
)
def test_amounts_are_kept_exactly_as_written(given, expected):
    line = validate(Line, {"sku": "A", "amount": given})
    assert line.amount == expected
    assert str(line.amount) == str(expected)  # "25.00" keeps its places for the currency check


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("-1.00", "greater than zero, written without a sign"),
        (-1, "greater than zero, written without a sign"),
        ("+1.00", "without a sign"),
        ("0", "greater than zero"),
        ("0.00", "greater than zero"),
        ("1.0001", "at most 3 decimal places"),
        ("abc", 'decimal number written like "25.00"'),
        ("NaN", 'decimal number written like "25.00"'),
        ("Infinity", 'decimal number written like "25.00"'),
        (Decimal("NaN"), "finite"),
        ("1E-2", "without an exponent"),
        ("1e12", "without an exponent"),
        (" 1.00", "without spaces"),
        ("1.00\n", "without spaces"),
        ("\uff11.\uff10\uff10", "ASCII digits 0-9 only"),  # full-width 1.00
        ("\u0661", "ASCII digits 0-9 only"),  # Arabic-Indic 1
        ("1.", 'decimal number written like "25.00"'),
        (".5", 'decimal number written like "25.00"'),
        ("1,00", 'decimal number written like "25.00"'),
        (1.5, "not read exactly"),
        (True, "not true or false"),
        (None, "not null"),
        ("10000000000.00", "at most 9999999999.99"),
    ],
)
def test_amounts_written_loosely_are_refused_naming_the_field(given, says):
    problem = refused(validate, Line, {"sku": "A", "amount": given})
    assert problem.extra["problems"][0]["field"] == "body.amount"
    assert says in problem.extra["problems"][0]["problem"]


def test_zero_is_an_amount_where_zero_is_allowed():
    class Fee(StrictModel):
        amount: NonNegativeAmount

    assert validate(Fee, {"amount": "0"}).amount == 0
    problem = refused(validate, Fee, {"amount": "-0.00"})
    assert "greater than or equal to 0" in problem.extra["problems"][0]["problem"]


def test_an_amount_with_more_places_than_its_currency_is_refused_naming_the_field():
    amount_in("USD", Decimal("10.00"), "body.amount")
    amount_in("JPY", Decimal("1000"), "body.amount")
    amount_in("USD", None, "body.amount")
    for currency, amount in (("USD", "10.005"), ("JPY", "10.0"), ("KWD", "1.0001")):
        problem = refused(amount_in, currency, Decimal(amount), "body.amount")
        assert (problem.status, problem.error) == (422, "invalid_body")
        assert problem.extra["problems"][0]["field"] == "body.amount"
        assert currency in problem.extra["problems"][0]["problem"]


class Refund(StrictModel):
    kind: Literal["refund"]
    amount: PositiveAmount


Operation = Annotated[Order | Refund, Field(discriminator="kind")]


def test_fields_of_a_union_are_named_as_in_the_document_not_by_member():
    wrong_amount = refused(validate, Operation, {"kind": "refund", "amount": "x", "n": 1})
    assert [p["field"] for p in wrong_amount.extra["problems"]] == ["body.amount", "body.n"]
    unknown_kind = refused(validate, Operation, {"kind": "chargeback"})
    assert [p["field"] for p in unknown_kind.extra["problems"]] == ["body.kind"]
    assert "'sale', 'authorization', 'refund'" in unknown_kind.extra["problems"][0]["problem"]


def test_schemas_are_inlined_for_openapi_extras():
    union = Annotated[Line | Order, Field(discriminator=None)]
    schema = inline_schema(TypeAdapter(union).json_schema())
    assert "$defs" not in str(schema)
    assert "$ref" not in str(schema)
    assert schema["anyOf"][1]["properties"]["lines"]["items"]["properties"]["sku"]


def test_fastapis_errors_are_refused_in_the_same_shape_without_the_values():
    errors = [
        {"type": "float_type", "loc": ("body", "amount"), "msg": "bad", "input": float("nan")},
        {"type": "missing", "loc": ("body", "invoice"), "msg": "Field required", "input": {}},
    ]
    problem = refused_request(errors, {"amount": float("nan")})
    assert (problem.status, problem.error) == (422, "invalid_body")
    assert [p["field"] for p in problem.extra["problems"]] == ["body.amount", "body.invoice"]
    assert "nan" not in str(problem.body()).lower()


def test_a_wrong_parameter_outside_the_body_is_an_invalid_request():
    errors = [{"type": "string_pattern_mismatch", "loc": ("path", "payment_id"), "msg": "no"}]
    problem = refused_request(errors, None)
    assert (problem.status, problem.error) == (422, "invalid_request")
    assert problem.extra["problems"] == [{"field": "path.payment_id", "problem": "no"}]


def test_a_body_that_is_not_json_is_400():
    errors = [{"type": "json_invalid", "loc": ("body", 7), "msg": "x", "ctx": {"error": "Oops"}}]
    problem = refused_request(errors, "{broken")
    assert (problem.status, problem.error) == (400, "malformed_json")
    assert "Oops" in problem.detail


def test_a_body_with_thousands_of_wrong_fields_gets_a_bounded_answer():
    document = {f"extra_{n}": n for n in range(5000)}
    errors = [
        {"type": "extra_forbidden", "loc": ("body", key), "msg": "Extra inputs are not permitted"}
        for key in document
    ]
    problem = refused_request(errors, document)
    assert len(problem.extra["problems"]) == MAX_PROBLEMS
    assert problem.detail.endswith(f"and {5000 - MAX_PROBLEMS} more")


def test_field_names_that_cannot_be_encoded_are_escaped():
    errors = [{"type": "extra_forbidden", "loc": ("body", "\udfff" * 100), "msg": "Extra"}]
    problem = refused_request(errors, {"\udfff" * 100: 1})
    field = problem.extra["problems"][0]["field"]
    assert field.startswith("body.\\udfff") and len(field) < 80
    field.encode("utf-8")  # renders as JSON
