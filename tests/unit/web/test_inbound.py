"""Helpers every ingest endpoint uses to refuse hostile input with a clear 4xx."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import pytest
from pydantic import Field, TypeAdapter

from payledger.web.inbound import (
    PositiveAmount,
    StrictModel,
    inline_schema,
    parse_json_object,
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
    [("25.00", Decimal("25.00")), (Decimal("0.5"), Decimal("0.50")), (7, Decimal("7.00"))],
)
def test_amounts_are_positive_decimals_with_two_places(given, expected):
    line = validate(Line, {"sku": "A", "amount": given})
    assert line.amount == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("-1.00", "greater than zero"),
        ("0", "greater than zero"),
        ("1.005", "two decimal places"),
        ("abc", "decimal number"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        (1.5, "decimal number"),
        (True, "decimal number"),
        (None, "decimal number"),
        ("1e12", "at most"),
    ],
)
def test_amounts_that_are_not_positive_money_are_refused(given, says):
    problem = refused(validate, Line, {"sku": "A", "amount": given})
    assert problem.extra["problems"][0]["field"] == "body.amount"
    assert says in problem.extra["problems"][0]["problem"]


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
