"""Sandbox rules tested directly: $filter semantics, values, ETags, keys and display values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payledger.sandbox.d365.catalog import build_catalog
from payledger.sandbox.d365.errors import ODataError
from payledger.sandbox.d365.filters import compile_filter
from payledger.sandbox.d365.query import parse_key
from payledger.sandbox.d365.rules import split_display_value
from payledger.sandbox.d365.store import Record
from payledger.sandbox.d365.values import dumps

CATALOG = build_catalog()
ORDERS = CATALOG.entities["SalesOrderHeadersV2"]
ROW = {
    "SalesOrderNumber": "000123",
    "SalesOrderName": "Contoso Retail",
    "SalesOrderStatus": "Backorder",
    "OrderTotalAmount": Decimal("125.50"),
    "RequestedShippingDate": date(2025, 3, 4),
}


def matches(text: str) -> bool:
    return compile_filter(text, ORDERS, CATALOG, functions=False)(ROW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SalesOrderName eq 'contoso retail'", True),
        ("SalesOrderName eq '*RETAIL'", True),
        ("SalesOrderName ne '*zzz*'", True),
        ("OrderTotalAmount gt 100 and OrderTotalAmount le 125.5", True),
        ("OrderTotalAmount sub 25.5 eq 100", True),
        ("not (SalesOrderNumber eq '000123') or SalesOrderNumber eq '000124'", False),
        ("SalesOrderStatus eq Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'", True),
        ("RequestedShippingDate eq 2025-03-04T12:00:00Z", True),
        ("RequestedShippingDate lt 2025-03-04T00:00:00Z", False),
    ],
)
def test_filter_semantics(text, expected):
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SalesOrderNumber in ('1','2')", "'in' operator is not supported"),
        ("SalesOrderStatus has Microsoft.Dynamics.DataEntities.SalesStatus'None'", "'has'"),
        ("SalesOrderStatus eq 'Backorder'", "incompatible types"),
        ("SalesOrderStatus gt Microsoft.Dynamics.DataEntities.SalesStatus'None'", "not supported"),
        ("contains(SalesOrderName, 'x')", "unknown function"),
        ("Nope eq 1", "Could not find a property named 'Nope'"),
        ("OrderTotalAmount eq '125.50'", "incompatible types"),
    ],
)
def test_unsupported_filters_are_400(text, message):
    with pytest.raises(ODataError, match=message) as caught:
        matches(text)
    assert caught.value.status == 400


def test_functions_can_be_switched_on():
    for text in (
        "contains(SalesOrderName,'retail')",
        "tolower(SalesOrderName) eq 'contoso retail'",
    ):
        assert compile_filter(text, ORDERS, CATALOG, functions=True)(ROW)


def test_etag_encodes_recversion_and_recid_per_datasource():
    assert Record({}, 22565421176, 0).etag(1) == 'W/"JzAsMjI1NjU0MjExNzYn"'
    assert Record({}, 68719511520, 1).etag(2) == 'W/"JzEsNjg3MTk1MTE1MjA7MCwwJw=="'


def test_keys_must_name_every_part():
    customers = CATALOG.entities["CustomersV3"]
    assert parse_key("dataAreaId='usmf',CustomerAccount='O''Brien'", customers, CATALOG) == {
        "dataAreaId": "usmf",
        "CustomerAccount": "O'Brien",
    }
    with pytest.raises(ODataError, match="No route data"):
        parse_key("'US-001'", customers, CATALOG)
    with pytest.raises(ODataError, match="No route data"):
        parse_key("CustomerAccount='US-001'", customers, CATALOG)


def test_display_values_split_on_unescaped_delimiters():
    assert split_display_value("US\\-001") == ["US-001"]
    assert split_display_value("618160--") == ["618160", "", ""]
    assert split_display_value("A\\\\-B") == ["A\\", "B"]


def test_json_numbers_are_exact():
    assert dumps({"a": Decimal("125.50"), "b": Decimal("6800"), "c": Decimal("0.00")}) == (
        b'{"a":125.5,"b":6800,"c":0}'
    )
