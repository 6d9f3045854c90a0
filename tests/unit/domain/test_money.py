"""Money is exact, carries its currency and never mixes currencies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.domain import (
    CurrencyMismatch,
    DomainError,
    Money,
    Payment,
    PaymentKind,
    PaymentStatus,
    PaymentToken,
)


def test_amounts_round_half_even_to_the_currencys_minor_unit():
    assert Money.of("10.005").amount == Decimal("10.00")
    assert Money.of("10.015").amount == Decimal("10.02")
    assert Money.of("1500.4", "JPY").amount == Decimal("1500")
    assert Money.of("1.2345", "KWD").amount == Decimal("1.234")


def test_floats_are_refused_because_they_are_not_exact():
    with pytest.raises(DomainError, match="float"):
        Money.of(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["usd", "US", "EURO", "€€€"])
def test_a_currency_must_be_an_iso_code(bad):
    with pytest.raises(DomainError, match="ISO 4217"):
        Money.of("1.00", bad)


def test_garbage_amounts_are_named():
    with pytest.raises(DomainError, match="'ten'"):
        Money.of("ten")
    with pytest.raises(DomainError, match="finite"):
        Money.of("NaN")


def test_currencies_never_mix():
    with pytest.raises(CurrencyMismatch):
        Money.of("1.00", "USD") + Money.of("1.00", "CAD")


def test_minor_units():
    assert Money.of("12.34").minor == 1234
    assert Money.of("500", "JPY").minor == 500


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
)
def test_addition_is_exact(a, b):
    assert (Money(a, "USD") + Money(b, "USD")).amount == a + b
    assert (Money(a, "USD") - Money(a, "USD")).amount == 0


def test_payments_require_aware_times_and_non_negative_amounts():
    with pytest.raises(DomainError, match="timezone"):
        Payment(
            "1", PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("1.00"), datetime(2026, 1, 1)
        )
    with pytest.raises(DomainError, match="negative"):
        Payment(
            "1",
            PaymentKind.SALE,
            PaymentStatus.APPROVED,
            Money.of("-1.00"),
            datetime.now().astimezone(),
        )


def test_a_token_can_only_hold_a_masked_card():
    assert PaymentToken("cust-1", masked_card="************1111").masked_card.endswith("1111")
    with pytest.raises(DomainError, match="masked"):
        PaymentToken("cust-1", masked_card="4111111111111111")
