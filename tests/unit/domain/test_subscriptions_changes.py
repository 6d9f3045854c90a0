"""Specification of changes mid-period: proration to the cent, pause, resume, cancel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payledger.domain.money import Money
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_changes import (
    ChangeRefused,
    cancel,
    change_plan,
    pause,
    prorate,
    resume,
)
from payledger.domain.subscriptions_periods import InvalidSubscription, Period
from tests.unit.domain.subscription_builders import local, plan, subscription

# Period 1 of a subscription anchored on Jan 31: Feb 28 to Mar 31, 31 days.
BILLED_THROUGH_MARCH = subscription(next_period=2)


def test_an_upgrade_credits_the_days_left_at_the_old_price_and_charges_them_at_the_new():
    changed = change_plan(
        BILLED_THROUGH_MARCH,
        plan("50.00", "Platinum"),
        local(date(2026, 3, 10), 15),
        upgrades_so_far=0,
    )
    p = changed.proration
    assert p is not None and (p.days_left, p.period.days) == (21, 31)
    assert p.credit == Money.of("20.32")  # 30.00 * 21/31 = 20.3225...
    assert p.charge == Money.of("33.87")  # 50.00 * 21/31 = 33.8709...
    assert p.difference == Money.of("13.55")
    upgrade = changed.upgrade
    assert upgrade is not None
    assert upgrade.invoice_key(7) == "SUB-7-P1-U1"
    assert [(line.description, line.amount) for line in upgrade.lines] == [
        ("Unused time on Gold plan (21 of 31 days)", Money.of("-20.32")),
        ("Remaining time on Platinum (21 of 31 days)", Money.of("33.87")),
    ]
    assert changed.subscription.plan == plan("50.00", "Platinum")
    assert changed.subscription.credit == 0


def test_halves_of_a_cent_round_to_even():
    april = Period(2, date(2026, 3, 31), date(2026, 4, 30))  # 30 days
    p = prorate(april, date(2026, 4, 15), Money.of("10.05"), Money.of("20.15"))
    assert p.days_left == 15
    assert p.credit == Money.of("5.02")  # 5.025 -> 5.02
    assert p.charge == Money.of("10.08")  # 10.075 -> 10.08
    assert p.difference == Money.of("5.06")


def test_a_second_upgrade_in_the_period_is_its_own_entry():
    changed = change_plan(
        BILLED_THROUGH_MARCH, plan("50.00"), local(date(2026, 3, 10)), upgrades_so_far=1
    )
    assert changed.upgrade is not None and changed.upgrade.invoice_key(7) == "SUB-7-P1-U2"


def test_a_downgrade_is_credited_on_the_next_invoice_never_refunded():
    gold = subscription(next_period=2, plan=plan("50.00"), credit=Decimal("1.00"))
    changed = change_plan(
        gold, plan("30.00", "Silver"), local(date(2026, 3, 10)), upgrades_so_far=0
    )
    assert changed.upgrade is None
    assert changed.proration is not None and changed.proration.difference == Money.of("-13.55")
    assert changed.subscription.credit == Decimal("14.55")


def test_a_change_on_the_first_day_prorates_the_whole_period_and_on_the_last_one_day():
    first = change_plan(
        BILLED_THROUGH_MARCH, plan("61.00"), local(date(2026, 2, 28)), upgrades_so_far=0
    )
    last = change_plan(
        BILLED_THROUGH_MARCH, plan("61.00"), local(date(2026, 3, 30)), upgrades_so_far=0
    )
    assert first.proration is not None and first.proration.difference == Money.of("31.00")
    assert last.proration is not None and last.proration.days_left == 1
    assert last.proration.difference == Money.of("1.00")


def test_a_change_before_the_period_is_billed_just_sets_the_new_plan():
    not_billed = subscription(next_period=1)  # period 1 (from Feb 28) not claimed yet
    changed = change_plan(not_billed, plan("50.00"), local(date(2026, 3, 10)), upgrades_so_far=0)
    assert changed.proration is None and changed.upgrade is None
    assert changed.subscription.plan.amount == Money.of("50.00")


def test_the_plan_currency_cannot_change():
    with pytest.raises(InvalidSubscription) as refused:
        change_plan(
            BILLED_THROUGH_MARCH,
            plan("50.00", currency="EUR"),
            local(date(2026, 3, 10)),
            upgrades_so_far=0,
        )
    assert refused.value.field == "plan.currency"


def test_resuming_skips_the_periods_that_started_while_paused():
    paused = pause(subscription(next_period=1))
    assert paused.status is SubscriptionStatus.PAUSED and paused.next_due() is None
    resumed = resume(paused, local(date(2026, 4, 10)))  # periods 1 (Feb 28) and 2 (Mar 31) passed
    assert resumed.status is SubscriptionStatus.ACTIVE
    assert resumed.next_period == 3
    assert resumed.next_due() == local(date(2026, 4, 30))


def test_cancel_now_leaves_nothing_due():
    cancelled = cancel(BILLED_THROUGH_MARCH, local(date(2026, 3, 10)), at_period_end=False)
    assert cancelled.status is SubscriptionStatus.CANCELLED and cancelled.next_due() is None


def test_cancel_at_period_end_keeps_the_current_period_and_bills_no_other():
    cut = cancel(BILLED_THROUGH_MARCH, local(date(2026, 3, 10)), at_period_end=True)
    assert cut.status is SubscriptionStatus.ACTIVE and cut.cancel_at_period_end
    assert cut.schedule.end_date == date(2026, 3, 31)
    assert cut.schedule.period(2) is None
    assert cut.next_due() == local(date(2026, 3, 31))  # when it becomes cancelled


@pytest.mark.parametrize("status", [SubscriptionStatus.CANCELLED, SubscriptionStatus.ENDED])
def test_a_finished_subscription_takes_no_change(status):
    done = subscription(status=status)
    with pytest.raises(ChangeRefused):
        pause(done)
    with pytest.raises(ChangeRefused):
        change_plan(done, plan("1.00"), local(date(2026, 3, 1)), upgrades_so_far=0)
    with pytest.raises(ChangeRefused):
        resume(done, local(date(2026, 3, 1)))
