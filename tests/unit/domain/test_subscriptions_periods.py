"""Specification of subscription periods: where each starts and ends, and when it is due."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.domain.subscriptions_periods import (
    BillingSchedule,
    Interval,
    IntervalUnit,
    InvalidSubscription,
)

LA = "America/Los_Angeles"


def monthly(anchor: date, every: int = 1, **kw: object) -> BillingSchedule:
    return BillingSchedule(anchor, Interval(IntervalUnit.MONTH, every), LA, **kw)  # type: ignore[arg-type]


def starts(schedule: BillingSchedule, count: int) -> list[date | None]:
    return [schedule.start(i) for i in range(count)]


def test_month_ends_are_clamped_from_the_anchor_not_from_the_previous_period():
    assert starts(monthly(date(2026, 1, 31)), 5) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_february_has_29_days_in_a_leap_year():
    assert starts(monthly(date(2024, 1, 31)), 2) == [date(2024, 1, 31), date(2024, 2, 29)]
    assert monthly(date(2024, 1, 31)).period(1).days == 31  # type: ignore[union-attr]


def test_a_yearly_subscription_anchored_on_february_29_falls_on_the_28th_in_other_years():
    leap = BillingSchedule(date(2024, 2, 29), Interval(IntervalUnit.YEAR), LA)
    assert starts(leap, 5) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_days_and_weeks_step_evenly_and_every_n_multiplies():
    days = BillingSchedule(date(2026, 3, 1), Interval(IntervalUnit.DAY, 10), LA)
    weeks = BillingSchedule(date(2026, 3, 1), Interval(IntervalUnit.WEEK, 2), LA)
    quarterly = monthly(date(2026, 1, 15), every=3)
    assert starts(days, 3) == [date(2026, 3, 1), date(2026, 3, 11), date(2026, 3, 21)]
    assert starts(weeks, 3) == [date(2026, 3, 1), date(2026, 3, 15), date(2026, 3, 29)]
    assert starts(quarterly, 3) == [date(2026, 1, 15), date(2026, 4, 15), date(2026, 7, 15)]


def test_a_cron_rule_starts_periods_on_the_days_it_picks_from_the_anchor_on():
    schedule = BillingSchedule(date(2026, 1, 2), Interval(rule="0 0 1,15 * *"), LA)
    assert starts(schedule, 4) == [
        date(2026, 1, 15),
        date(2026, 2, 1),
        date(2026, 2, 15),
        date(2026, 3, 1),
    ]
    assert schedule.period(0).ends_on == date(2026, 2, 1)  # type: ignore[union-attr]


def test_a_period_ends_where_the_next_begins():
    schedule = monthly(date(2026, 1, 31))
    first, second = schedule.period(0), schedule.period(1)
    assert first is not None and second is not None
    assert first.ends_on == second.starts_on == date(2026, 2, 28)
    assert first.days == 28


def test_a_period_is_due_at_local_midnight_of_its_first_day_across_dst():
    schedule = monthly(date(2026, 2, 8))
    # PST (UTC-8) in February, PDT (UTC-7) from March 8
    assert schedule.due_at(0) == datetime(2026, 2, 8, 8, 0, tzinfo=UTC)
    assert schedule.due_at(1) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # before the 2am jump
    assert schedule.due_at(2) == datetime(2026, 4, 8, 7, 0, tzinfo=UTC)
    assert schedule.current_index(datetime(2026, 4, 8, 6, 59, tzinfo=UTC)) == 1
    assert schedule.current_index(datetime(2026, 4, 8, 7, 0, tzinfo=UTC)) == 2


def test_where_dst_skips_midnight_the_day_begins_when_the_clocks_jump():
    # Santiago moved from UTC-4 to UTC-3 at 00:00 on 2024-09-08: that midnight never happened
    schedule = BillingSchedule(date(2024, 9, 8), Interval(IntervalUnit.DAY), "America/Santiago")
    assert schedule.due_at(0) == datetime(2024, 9, 8, 4, 0, tzinfo=UTC)
    assert schedule.due_at(1) == datetime(2024, 9, 9, 3, 0, tzinfo=UTC)


def test_nothing_is_due_before_the_anchor():
    schedule = monthly(date(2026, 5, 1))
    assert schedule.current_index(datetime(2026, 4, 30, 12, tzinfo=UTC)) == -1


def test_an_end_date_or_a_count_ends_the_periods():
    by_date = monthly(date(2026, 1, 1), end_date=date(2026, 3, 1))
    by_count = monthly(date(2026, 1, 1), max_periods=2)
    for schedule in (by_date, by_count):
        assert schedule.period(1) is not None
        assert schedule.period(2) is None
        assert not schedule.exists(2)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Interval(IntervalUnit.MONTH, 0), "interval.every"),
        (lambda: Interval(IntervalUnit.DAY, 1001), "interval.every"),
        (lambda: Interval(rule="every day"), "interval.rule"),
        (lambda: Interval(rule="30 9 * * *"), "interval.rule"),
        (lambda: BillingSchedule(date(2026, 1, 1), Interval(rule="0 0 30 2 *"), LA), "interval"),
        (lambda: monthly(date(2026, 1, 1), end_date=date(2025, 12, 1)), "end_date"),
        (lambda: monthly(date(2026, 1, 1), end_date=date(2026, 1, 1)), "end_date"),
        (lambda: monthly(date(2026, 1, 1), max_periods=0), "max_periods"),
        (lambda: BillingSchedule(date(2026, 1, 1), Interval(), "Mars/Olympus"), "timezone"),
        (
            lambda: BillingSchedule(
                date(2026, 1, 2), Interval(rule="0 0 1 1 *"), LA, end_date=date(2026, 6, 1)
            ),
            "interval",
        ),
    ],
)
def test_a_schedule_that_cannot_be_is_refused_naming_the_field(build, field):
    with pytest.raises(InvalidSubscription) as refused:
        build()
    assert refused.value.field == field
    assert field.split(".")[-1] in str(refused.value)


intervals = st.one_of(
    st.builds(Interval, st.sampled_from(list(IntervalUnit)), st.integers(1, 14)),
    st.sampled_from(
        [Interval(rule="0 0 1,15 * *"), Interval(rule="0 0 * * 1"), Interval(rule="0 0 L * *")]
    ),
)


@given(
    anchor=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    interval=intervals,
    zone=st.sampled_from([LA, "UTC", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"]),
)
def test_periods_tile_time_without_gap_or_overlap(anchor, interval, zone):
    try:
        schedule = BillingSchedule(anchor, interval, zone)
    except InvalidSubscription:  # "L" is not every croniter's
        return
    periods = [schedule.period(i) for i in range(30)]
    assert all(p is not None for p in periods)
    for before, after in itertools.pairwise(periods):
        assert before.ends_on == after.starts_on  # type: ignore[union-attr]
        assert before.days > 0  # type: ignore[union-attr]
        assert schedule.due_at(before.index) < schedule.due_at(after.index)  # type: ignore[union-attr]


@given(
    anchor=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    interval=intervals,
    offset=st.integers(0, 3 * 365 * 24),
)
def test_the_current_period_is_the_last_one_due(anchor, interval, offset):
    try:
        schedule = BillingSchedule(anchor, interval, LA)
    except InvalidSubscription:
        return
    moment = schedule.due_at(0) + timedelta(hours=offset)
    index = schedule.current_index(moment)
    assert index >= 0
    assert schedule.due_at(index) <= moment < schedule.due_at(index + 1)
