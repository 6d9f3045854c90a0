"""Literals, filters, query options, key paths, display values and exact JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.adapters.d365 import (
    EnumValue,
    ODataQuery,
    escape_display_value,
    field,
    key_path,
    literal,
    unescape_display_value,
)
from payledger.adapters.d365.odata import WildcardInValue, dumps, loads
from payledger.domain.errors import MappingError
from payledger.sandbox.d365.catalog import build_catalog
from payledger.sandbox.d365.filters import parse_literal, tokenize

CATALOG = build_catalog()


def test_literals_follow_odata_and_fo_conventions():
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(Decimal("125.50")) == "125.50"
    assert literal(7) == "7"
    assert literal(True) == "true"
    assert literal(None) == "null"
    assert literal(date(2025, 3, 5)) == "2025-03-05T12:00:00Z"
    assert literal(datetime(2025, 3, 5, 9, 30, tzinfo=UTC)) == "2025-03-05T09:30:00Z"
    assert literal(EnumValue("NoYes", "Yes")) == "Microsoft.Dynamics.DataEntities.NoYes'Yes'"


def test_floats_and_naive_datetimes_are_refused():
    with pytest.raises(TypeError):
        literal(1.5)
    with pytest.raises(ValueError):
        literal(datetime(2025, 3, 5, 9, 30))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_string_literal_reads_back_the_same_in_the_sandbox_parser(text):
    (token,) = tokenize(literal(text))

    assert parse_literal(token, CATALOG).literal == text


def test_filters_combine_with_parentheses():
    condition = field("A").eq("x") & (
        field("B").gt(Decimal(1)) | ~field("C").eq(EnumValue("NoYes", "No"))
    )

    assert condition.text == (
        "(A eq 'x') and ((B gt 1) or (not (C eq Microsoft.Dynamics.DataEntities.NoYes'No')))"
    )


def test_wildcards_are_explicit():
    assert field("Name").contains("retail").text == "Name eq '*retail*'"
    assert field("Name").startswith("Con").text == "Name eq 'Con*'"
    assert field("Name").matches("US-00*").text == "Name eq 'US-00*'"


@pytest.mark.parametrize("compare", ["eq", "ne"])
def test_an_exact_comparison_refuses_a_value_holding_the_wildcard(compare):
    with pytest.raises(WildcardInValue, match=r"CustomerAccount 'US-00\*' cannot be matched"):
        getattr(field("CustomerAccount"), compare)("US-00*")
    assert issubclass(WildcardInValue, MappingError)  # parked for a human, never retried


def test_quotes_in_an_exact_comparison_are_doubled():
    assert field("PrimaryContactEmail").eq("o'brien@example.com").text == (
        "PrimaryContactEmail eq 'o''brien@example.com'"
    )


def test_query_params_carry_cross_company_by_default():
    query = (
        ODataQuery("SalesOrderHeadersV2")
        .where(field("dataAreaId").eq("usmf"))
        .select("SalesOrderNumber")
        .expand("SalesOrderLines", select=("ItemNumber",))
        .order_by("SalesOrderNumber", descending=True)
        .top(10)
        .skip(20)
        .count()
    )

    assert query.params() == [
        ("cross-company", "true"),
        ("$filter", "dataAreaId eq 'usmf'"),
        ("$select", "SalesOrderNumber"),
        ("$expand", "SalesOrderLines($select=ItemNumber)"),
        ("$orderby", "SalesOrderNumber desc"),
        ("$top", "10"),
        ("$skip", "20"),
        ("$count", "true"),
    ]
    assert ("cross-company", "true") not in query.in_company_only().params()


def test_key_path_names_every_key_part():
    key = {"dataAreaId": "usmf", "JournalBatchNumber": "00631", "LineNumber": Decimal(1)}

    assert key_path("CustomerPaymentJournalLines", key) == (
        "CustomerPaymentJournalLines(dataAreaId='usmf',JournalBatchNumber='00631',LineNumber=1)"
    )


def test_key_literals_are_url_encoded_after_their_quotes_are_doubled():
    key = {"dataAreaId": "usmf", "CustomerAccount": "O'B #1?/%"}

    assert key_path("CustomersV3", key) == (
        "CustomersV3(dataAreaId='usmf',CustomerAccount='O''B%20%231%3F%2F%25')"
    )


@given(st.text(max_size=30))
def test_display_value_escaping_round_trips(text):
    assert unescape_display_value(escape_display_value(text)) == text


def test_display_value_escapes_segment_delimiter_and_backslash():
    assert escape_display_value("US-001") == "US\\-001"
    assert escape_display_value("A\\B") == "A\\\\B"
    assert escape_display_value("1001") == "1001"


def test_json_keeps_decimals_exact_and_formats_dates():
    payload = {
        "CreditAmount": Decimal("0.10"),
        "TransactionDate": date(2025, 3, 5),
        "N": [Decimal("1E+2")],
    }

    text = dumps(payload)

    assert text == b'{"CreditAmount":0.10,"TransactionDate":"2025-03-05T12:00:00Z","N":[100]}'
    assert loads(text)["CreditAmount"] == Decimal("0.10")
    with pytest.raises(TypeError):
        dumps({"x": 0.1})
