"""Card schemes from an export's BIN, for reconciliation totals per card type."""

from __future__ import annotations

import pytest

from payledger.adapters.paytrace.settlement import card_type_of


@pytest.mark.parametrize(
    ("masked", "scheme"),
    [
        ("401200******5439", "VISA"),
        ("549974******0057", "MASTERCARD"),
        ("222100******0000", "MASTERCARD"),
        ("371449*****2376", "AMEX"),
        ("601100******0004", "DISCOVER"),
        ("650000******0000", "DISCOVER"),
        ("353011******0000", "JCB"),
        ("305693****5904", "DINERS"),
        ("990000******0000", "OTHER"),
        ("************5439", ""),  # exported without include_bin: no scheme to tell
    ],
)
def test_the_scheme_comes_from_the_bin(masked, scheme):
    assert card_type_of(masked) == scheme
