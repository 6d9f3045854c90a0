"""JSON without floats: Decimals written exactly as JSON numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.mapping import dumps, loads


def test_decimals_are_bare_numbers_with_their_digits():
    payload = {"CreditAmount": Decimal("125.50"), "DebitAmount": Decimal("0.00"), "Line": 1}

    assert dumps(payload) == '{"CreditAmount": 125.50, "DebitAmount": 0.00, "Line": 1}'


def test_round_trip_keeps_exact_values_and_scale():
    text = '{"a": [1, 2.50, "x", true, null], "b": {"c": 1E+2}}'

    value = loads(text)

    assert value == {"a": [1, Decimal("2.50"), "x", True, None], "b": {"c": Decimal("100")}}
    assert dumps(value) == '{"a": [1, 2.50, "x", true, null], "b": {"c": 100}}'


def test_indented_output_and_empty_containers():
    assert dumps({"a": [], "b": {}, "c": [1]}, indent=2) == (
        '{\n  "a": [],\n  "b": {},\n  "c": [\n    1\n  ]\n}'
    )


def test_floats_and_unknown_types_are_refused():
    with pytest.raises(TypeError, match="binary float"):
        dumps({"a": 0.1})
    with pytest.raises(TypeError, match="cannot write set"):
        dumps({"a": {1}})
    with pytest.raises(ValueError, match="cannot be written"):
        dumps(Decimal("NaN"))
