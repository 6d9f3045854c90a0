"""A subscription that cannot be is refused with an error naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payledger.domain.money import Money
from payledger.domain.subscriptions import Plan, check_plan
from payledger.domain.subscriptions_periods import InvalidSubscription
from tests.unit.domain.subscription_builders import plan, subscription


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("0", "USD", "plan.amount"),
        ("-5.00", "USD", "plan.amount"),
        ("10.001", "USD", "plan.amount"),
        ("100.5", "JPY", "plan.amount"),
        ("10.00", "XYZ", "plan.currency"),
        ("10.00", "usd", "plan.currency"),
    ],
)
def test_the_plan_price_must_be_positive_in_a_known_currency_and_its_decimals(
    amount, currency, field
):
    with pytest.raises(InvalidSubscription) as refused:
        check_plan(Decimal(amount), currency)
    assert refused.value.field == field
    assert refused.value.code == "invalid_subscription"


def test_a_price_with_the_currencys_decimals_is_kept_exactly():
    assert check_plan(Decimal("10.500"), "KWD") == Money(Decimal("10.500"), "KWD")
    assert check_plan(Decimal("1500"), "JPY") == Money(Decimal("1500"), "JPY")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Plan(Money.of("10.00"), "  "), "plan.description"),
        (lambda: Plan(Money.of("10.00"), "Gold", item="A*B"), "plan.item"),
        (lambda: subscription(customer_account="US 001"), "customer_account"),
        (lambda: subscription(vault_customer_id=""), "vault_customer_id"),
        (lambda: subscription(trial_end=date(2026, 1, 1)), "trial_end"),
    ],
)
def test_each_field_is_checked(build, field):
    with pytest.raises(InvalidSubscription) as refused:
        build()
    assert refused.value.field == field


def test_a_valid_subscription_builds():
    assert subscription(plan=plan("12.34")).plan.amount == Money.of("12.34")
