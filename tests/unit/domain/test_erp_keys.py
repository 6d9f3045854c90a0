"""What may be bound for an ERP query: ids strictly, lookup values without the wildcard."""

from __future__ import annotations

import re

import pytest

from payledger.domain.erp_keys import InvalidErpValue, check_erp_id, check_erp_lookup


@pytest.mark.parametrize("value", ["US-001", "CIV-000817", "000123", "INV/2026/7", "a_b.c"])
def test_d365_ids_pass(value):
    assert check_erp_id("invoice", value) == value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("US-00*", "wildcard"),
        ("*", "wildcard"),
        ("O'Brien", "only 1-40 letters"),
        ("US 001", "only 1-40 letters"),
        ("A..B", "no '..'"),
        ("", "only 1-40 letters"),
        ("x" * 41, "only 1-40 letters"),
        ("US-001\n", "only 1-40 letters"),
        ("\uff35\uff33-001", "only 1-40 letters"),  # full-width "US",
    ],
)
def test_anything_else_is_refused_naming_the_field(value, why):
    with pytest.raises(InvalidErpValue, match=rf"^customer\.account .*{re.escape(why)}") as refused:
        check_erp_id("customer.account", value)
    assert refused.value.field == "customer.account"


@pytest.mark.parametrize("value", ["o'brien@example.com", 'a"b@c.de', "Zoë (billing)"])
def test_lookup_values_may_hold_quotes_and_any_printable_text(value):
    assert check_erp_lookup("customer.email", value) == value


@pytest.mark.parametrize("value", ["*@example.com", "a*b", "tab\there", "nul\x00"])
def test_lookup_values_may_not_hold_the_wildcard_or_control_characters(value):
    with pytest.raises(InvalidErpValue, match=r"^customer\.email "):
        check_erp_lookup("customer.email", value)
