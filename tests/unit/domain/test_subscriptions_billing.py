"""Specification of what a billing run claims of a subscription at a moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from payledger.domain.money import Money
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import (
    EntryStatus,
    NewEntry,
    claim_due,
    status_after,
)
from payledger.domain.subscriptions_periods import IntervalUnit
from tests.unit.domain.subscription_builders import local, subscription


def indexes(entries: tuple[NewEntry, ...]) -> list[int]:
    return [e.period.index for e in entries]


def test_nothing_is_due_before_local_midnight_of_the_first_day():
    claim = claim_due(subscription(), local(date(2026, 1, 30), 23, 59), "all")
    assert claim.bill == () and claim.subscription.next_period == 0


def test_the_first_period_is_claimed_at_its_local_midnight_with_its_price_as_one_line():
    claim = claim_due(subscription(), local(date(2026, 1, 31)), "all")
    [entry] = claim.bill
    assert entry.period.starts_on == date(2026, 1, 31)
    assert entry.period.ends_on == date(2026, 2, 28)
    assert [(line.description, line.amount) for line in entry.lines] == [
        ("Gold plan 2026-01-31 to 2026-02-27", Money.of("30.00"))
    ]
    assert entry.invoice_key(7) == "SUB-7-P0"
    assert claim.subscription.next_period == 1


def test_a_claimed_period_is_not_claimed_again():
    first = claim_due(subscription(), local(date(2026, 2, 1)), "all")
    again = claim_due(first.subscription, local(date(2026, 2, 2)), "all")
    assert again.bill == () and again.subscription.next_period == 1


def test_catch_up_all_bills_every_missed_period_once():
    claim = claim_due(subscription(), local(date(2026, 4, 15)), "all")
    assert indexes(claim.bill) == [0, 1, 2]
    assert claim.skip == ()
    assert claim.subscription.next_period == 3


def test_catch_up_latest_bills_the_latest_and_records_the_others_as_skipped():
    claim = claim_due(subscription(), local(date(2026, 4, 15)), "latest")
    assert indexes(claim.bill) == [2]
    assert indexes(claim.skip) == [0, 1]
    assert all(e.status is EntryStatus.SKIPPED for e in claim.skip)


def test_at_most_most_periods_are_billed_and_the_rest_wait_for_the_next_run():
    claim = claim_due(subscription(), local(date(2026, 6, 1)), "all", most=2)
    assert indexes(claim.bill) == [0, 1]
    assert claim.subscription.next_period == 2
    assert claim.subscription.next_due() == local(date(2026, 3, 31))


def test_trial_periods_are_passed_over_without_a_charge():
    trialing = subscription(trial_end=date(2026, 3, 1), status=SubscriptionStatus.TRIALING)
    assert trialing.next_due() == local(date(2026, 3, 31))
    claim = claim_due(trialing, local(date(2026, 3, 31)), "all")
    assert indexes(claim.bill) == [2]
    assert claim.skip == ()


def test_a_count_ends_the_subscription_once_its_last_period_is_over():
    two = subscription(max_periods=2)
    claim = claim_due(two, local(date(2026, 3, 1)), "all")
    assert indexes(claim.bill) == [0, 1]
    assert claim.subscription.status is SubscriptionStatus.ACTIVE
    assert claim.subscription.next_due() == local(date(2026, 3, 31))  # the last period's end
    end = claim_due(claim.subscription, local(date(2026, 3, 31)), "all")
    assert end.bill == ()
    assert end.subscription.status is SubscriptionStatus.ENDED
    assert end.subscription.next_due() is None


def test_an_end_date_stops_periods_from_starting_on_or_after_it():
    ends = subscription(unit=IntervalUnit.WEEK, anchor=date(2026, 3, 2), end_date=date(2026, 3, 16))
    claim = claim_due(ends, local(date(2026, 4, 1)), "all")
    assert indexes(claim.bill) == [0, 1]
    assert claim.subscription.status is SubscriptionStatus.ENDED


def test_a_cancellation_at_period_end_ends_as_cancelled():
    cut = subscription(max_periods=1, cancel_at_period_end=True)
    claim = claim_due(cut, local(date(2026, 3, 1)), "all")
    assert claim.subscription.status is SubscriptionStatus.CANCELLED


def test_carried_credit_is_a_negative_line_up_to_the_price_and_the_rest_carries_on():
    owed = subscription(credit=Decimal("45.00"))
    claim = claim_due(owed, local(date(2026, 2, 28)), "all")
    first, second = claim.bill
    assert [line.amount for line in first.lines] == [Money.of("30.00"), Money.of("-30.00")]
    assert [line.amount for line in second.lines] == [Money.of("30.00"), Money.of("-15.00")]
    assert second.lines[1].description == "Credit carried from a plan change"
    assert claim.subscription.credit == 0


def test_a_paused_subscription_has_nothing_due():
    assert subscription(status=SubscriptionStatus.PAUSED).next_due() is None


@pytest.mark.parametrize(
    ("before", "outcome", "after"),
    [
        (SubscriptionStatus.TRIALING, EntryStatus.CHARGED, SubscriptionStatus.ACTIVE),
        (SubscriptionStatus.PAST_DUE, EntryStatus.CHARGED, SubscriptionStatus.ACTIVE),
        (SubscriptionStatus.ACTIVE, EntryStatus.DECLINED, SubscriptionStatus.PAST_DUE),
        (SubscriptionStatus.ACTIVE, EntryStatus.FAILED, SubscriptionStatus.PAST_DUE),
        (SubscriptionStatus.PAUSED, EntryStatus.CHARGED, None),
        (SubscriptionStatus.CANCELLED, EntryStatus.DECLINED, None),
    ],
)
def test_a_charge_moves_only_a_subscription_that_is_being_billed(before, outcome, after):
    assert status_after(before, outcome) == after


def test_the_claim_is_the_same_whoever_makes_it():
    s = subscription()
    at = local(date(2026, 3, 1)) + timedelta(hours=5)
    assert claim_due(s, at, "all") == claim_due(replace(s), at, "all")
