"""Which business day and week a moment falls in: the company's calendar, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.errors import DomainError
from payledger.flows.post_payment import business_day
from payledger.views.cash import business_week

LA = "America/Los_Angeles"


def utc(day: int, hour: int, minute: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_one_minute_before_and_after_local_midnight_are_different_days():
    # 23:59 and 00:01 in Los Angeles (PDT, UTC-7) are both on 25 March in UTC.
    assert business_week(utc(25, 6, 59), LA) == (date(2026, 3, 23), date(2026, 3, 24))
    assert business_week(utc(25, 7, 1), LA) == (date(2026, 3, 23), date(2026, 3, 25))


def test_the_week_starts_on_monday_at_local_midnight():
    sunday_night, monday_morning = utc(23, 6, 59), utc(23, 7, 1)
    assert business_week(sunday_night, LA) == (date(2026, 3, 16), date(2026, 3, 22))
    assert business_week(monday_morning, LA) == (date(2026, 3, 23), date(2026, 3, 23))


def test_the_day_follows_the_clock_change():
    # Clocks went forward on Sunday 8 March 2026: midnight is 08:00 UTC before, 07:00 after.
    assert business_week(utc(8, 7, 30), LA)[1] == date(2026, 3, 7)  # 23:30 PST on Saturday
    assert business_week(utc(9, 7, 30), LA) == (date(2026, 3, 9), date(2026, 3, 9))
    # and back on Sunday 1 November: midnight is 07:00 UTC before, 08:00 after.
    assert business_week(utc(2, 7, 30, month=11), LA)[1] == date(2026, 11, 1)  # 23:30 PST


def test_the_same_moment_is_another_day_in_another_zone():
    moment = utc(25, 23, 30)
    assert business_week(moment, LA)[1] == date(2026, 3, 25)
    assert business_week(moment, "Europe/Berlin")[1] == date(2026, 3, 26)


def test_a_moment_without_a_zone_is_refused():
    with pytest.raises(DomainError, match="has no timezone"):
        business_week(datetime(2026, 3, 25, 12, 0), LA)


@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from([LA, "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Kiritimati"]),
)
def test_today_is_the_day_a_payment_at_that_moment_is_journaled_on(moment, zone):
    payment = Payment("1", PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("1.00"), moment)
    monday, today = business_week(moment, zone)
    assert today.isoformat() == business_day(payment, zone)
    assert monday.weekday() == 0 and timedelta(0) <= today - monday < timedelta(days=7)
