"""The retry schedule: day N after the first decline at the local retry time, across DST
and time zones, never two scheduled attempts on one local day, the same after a restart."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payledger.domain.dunning_schedule import RetrySchedule

LA = "America/Los_Angeles"
SCHEDULE = RetrySchedule((1, 3, 5, 7), time(10, 0), LA)


def local(day: date, hour: int, minute: int = 0, zone: str = LA) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def walk(
    schedule: RetrySchedule, first: datetime, late: timedelta = timedelta(0)
) -> list[datetime]:
    """Every retry the schedule gives, each made ``late`` after it was due."""
    made, last = [], first
    while (due := schedule.next_retry(first, last)) is not None:
        made.append(due)
        last = due + late
    return made


def test_retries_fall_on_days_1_3_5_7_at_ten_local():
    first = local(date(2026, 5, 4), 17, 30)
    assert walk(SCHEDULE, first) == [
        local(date(2026, 5, 5), 10),
        local(date(2026, 5, 7), 10),
        local(date(2026, 5, 9), 10),
        local(date(2026, 5, 11), 10),
    ]


def test_days_count_from_the_local_date_of_the_decline():
    # 23:30 on Mar 2 in Los Angeles is already Mar 3 in UTC: day 1 is Mar 3 local
    first = local(date(2026, 3, 2), 23, 30)
    assert SCHEDULE.next_retry(first, first) == local(date(2026, 3, 3), 10)


def test_a_dst_week_keeps_the_wall_clock_time():
    first = local(date(2026, 3, 6), 9)  # clocks spring forward on Sunday Mar 8
    retries = walk(SCHEDULE, first)
    assert [r.astimezone(ZoneInfo(LA)).time() for r in retries] == [time(10, 0)] * 4
    assert retries[1] - retries[0] == timedelta(days=2, hours=-1)  # a 23-hour Sunday between


def test_a_retry_time_the_clocks_skip_is_taken_when_they_jump():
    schedule = RetrySchedule((1,), time(2, 30), LA)
    due = schedule.next_retry(local(date(2026, 3, 7), 12), local(date(2026, 3, 7), 12))
    assert due == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # 03:00 PDT, the jump


def test_a_retry_time_the_clocks_repeat_is_the_first_one():
    schedule = RetrySchedule((1,), time(1, 30), LA)
    due = schedule.next_retry(local(date(2026, 10, 31), 12), local(date(2026, 10, 31), 12))
    assert due == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT, before the fall back


def test_a_late_run_skips_the_days_it_missed_rather_than_doubling_up():
    first = local(date(2026, 5, 4), 12)
    # the day-1 retry ran only on day 4 (payledger was down): the next is day 5, then day 7
    late = local(date(2026, 5, 8), 11)
    assert SCHEDULE.next_retry(first, late) == local(date(2026, 5, 9), 10)
    assert SCHEDULE.next_retry(first, local(date(2026, 5, 9), 10, 5)) == local(
        date(2026, 5, 11), 10
    )


def test_the_schedule_ends_after_the_last_day():
    first = local(date(2026, 5, 4), 12)
    assert SCHEDULE.next_retry(first, local(date(2026, 5, 11), 10)) is None


def test_days_must_increase():
    with pytest.raises(ValueError, match="increasing"):
        RetrySchedule((3, 1))


ZONES = st.sampled_from(
    [LA, "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"]
)


@settings(max_examples=300, deadline=None)
@given(
    zone=ZONES,
    first=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
    days=st.lists(st.integers(1, 30), min_size=1, max_size=6, unique=True).map(sorted),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    late_minutes=st.integers(0, 3 * 24 * 60),
)
def test_never_two_attempts_on_one_local_day_and_never_backwards(
    zone, first, days, at, late_minutes
):
    schedule = RetrySchedule(tuple(days), at, zone)
    start = first.replace(tzinfo=UTC)
    made = walk(schedule, start, timedelta(minutes=late_minutes))
    attempts = [start, *(due + timedelta(minutes=late_minutes) for due in made)]
    local_days = [schedule.local_day(a) for a in attempts]
    assert len(set(local_days)) == len(local_days)
    assert made == sorted(made) and all(due > start for due in made)
    assert len(made) <= len(days)
    origin = schedule.local_day(start)
    assert {(schedule.local_day(d) - origin).days for d in made} <= set(days)


@settings(max_examples=200, deadline=None)
@given(
    zone=ZONES,
    first=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
    stop_after=st.integers(0, 3),
)
def test_a_restart_gives_the_same_next_retry(zone, first, stop_after):
    """Worked out from stored instants only: a new process continues the same schedule."""
    schedule = RetrySchedule((1, 3, 5, 7), time(10, 0), zone)
    start = first.replace(tzinfo=UTC)
    made = walk(schedule, start)
    last = made[stop_after - 1] if stop_after else start
    restarted = RetrySchedule((1, 3, 5, 7), time(10, 0), zone)
    assert restarted.next_retry(start, last) == (
        made[stop_after] if stop_after < len(made) else None
    )
    due = made[stop_after]
    assert due.astimezone(ZoneInfo(zone)).time() == time(10, 0)
