"""An amount from outside is read exactly as written or refused; it is never rounded or guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.domain.errors import DomainError
from payledger.domain.money import MAX_MINOR_UNITS, Money, plain_amount

amounts = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2)


@given(amounts)
def test_a_plain_decimal_string_is_read_exactly(amount):
    assert plain_amount(str(amount)) == amount
    assert str(plain_amount(f"{amount:f}")) == f"{amount:f}"  # places kept as written


@given(amounts, st.sampled_from([" ", "\t", "\n", "\u00a0", "+", "-", "e0", "E+0", "\u3000"]))
def test_anything_around_the_digits_is_refused(amount, extra):
    text = f"{amount:f}"
    for loose in (extra + text, text + extra):
        with pytest.raises(DomainError):
            plain_amount(loose)


@given(st.text(alphabet="\uff10\uff11\uff15\u0661\u0969\u096f.", min_size=1, max_size=8))
def test_digits_other_than_ascii_are_refused(text):
    with pytest.raises(DomainError):
        plain_amount(text)


@pytest.mark.parametrize(
    ("value", "expected"), [(25, Decimal(25)), (Decimal("25.50"), Decimal("25.50")), ("0", 0)]
)
def test_ints_and_exact_decimals_are_amounts(value, expected):
    assert plain_amount(value) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (1.5, "not read exactly"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("-1"), "without a sign"),
        (-1, "without a sign"),
        (Decimal("1E+2"), "without an exponent"),
        ("1E-2", "without an exponent"),
        ("1e12", "without an exponent"),
        (True, "not true or false"),
        (None, "not null"),
        ("1." + "0" * (MAX_MINOR_UNITS + 1), f"at most {MAX_MINOR_UNITS} decimal places"),
    ],
)
def test_loose_amounts_are_refused_saying_why(value, says):
    with pytest.raises(DomainError, match=says):
        plain_amount(value)


@pytest.mark.parametrize(
    ("amount", "currency", "refused"),
    [
        ("10.00", "USD", None),
        ("10.005", "USD", "USD amounts have at most 2 decimal places"),
        ("1000", "JPY", None),
        ("1000.0", "JPY", "JPY amounts have no decimal places"),
        ("1.005", "KWD", None),
        ("1.0050", "KWD", "KWD amounts have at most 3 decimal places"),
    ],
)
def test_an_exact_amount_has_no_more_places_than_its_currency(amount, currency, refused):
    if refused is None:
        assert Money.exact(Decimal(amount), currency) == Money(Decimal(amount), currency)
    else:
        with pytest.raises(DomainError, match=refused):
            Money.exact(Decimal(amount), currency)
