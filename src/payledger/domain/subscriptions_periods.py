"""When a subscription's periods start and end, counted in a local calendar.

Period 0 starts on the anchor; period N starts N intervals later. Month and year steps are
counted from the anchor, not from the previous period, and clamped to the month's end: an
anchor on Jan 31 gives Jan 31, Feb 28 (29 in a leap year), Mar 31, Apr 30. A cron rule picks
the days periods start on instead (its minute and hour must be ``0 0``). A period ends where
the next begins (``ends_on`` is exclusive) and is due at local midnight of its first day.
"""

from __future__ import annotations

import bisect
import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from payledger.domain.errors import DomainError

MAX_EVERY = 1000
"""The most units one interval may span (``every``)."""


class InvalidSubscription(DomainError):
    """A subscription's field holds a value it cannot have; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        """The field as the API names it, e.g. ``plan.amount`` or ``interval.every``."""


class IntervalUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Interval:
    """Every ``every`` ``unit`` s, or, when ``rule`` is set, on the days that cron rule picks."""

    unit: IntervalUnit = IntervalUnit.MONTH
    every: int = 1
    rule: str = ""
    """Five-field cron expression with minute and hour ``0 0``, e.g. ``0 0 1,15 * *``."""

    def __post_init__(self) -> None:
        if self.rule:
            _check_rule(self.rule)
        elif not 1 <= self.every <= MAX_EVERY:
            raise InvalidSubscription(
                "interval.every", f"interval.every must be from 1 to {MAX_EVERY}, not {self.every}"
            )

    def __str__(self) -> str:
        if self.rule:
            return f"on the days of {self.rule!r}"
        return f"every {self.every} {self.unit.value}{'s' if self.every > 1 else ''}"


def _check_rule(rule: str) -> None:
    fields = rule.split()
    if len(fields) != 5 or not croniter.is_valid(rule):
        raise InvalidSubscription(
            "interval.rule", f"interval.rule {rule!r} is not a five-field cron expression"
        )
    if fields[:2] != ["0", "0"]:
        raise InvalidSubscription(
            "interval.rule",
            "interval.rule must start with '0 0': a period starts at local midnight of a day",
        )


@dataclass(frozen=True)
class Period:
    index: int
    starts_on: date
    ends_on: date
    """The first day of the next period (exclusive)."""

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by ``months``, its day clamped to the month's last day."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=256)
def _cron_starts(rule: str, anchor: date, count: int) -> tuple[date, ...]:
    """The first ``count`` distinct days on or after ``anchor`` that ``rule`` picks."""
    itr = croniter(rule, datetime.combine(anchor, time()) - timedelta(minutes=1))
    days: list[date] = []
    try:
        while len(days) < count:
            day = itr.get_next(datetime).date()
            if not days or day != days[-1]:
                days.append(day)
    except CroniterError:
        pass  # the rule fires no more: fewer days than asked
    return tuple(days)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; :class:`InvalidSubscription` (``timezone``) if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSubscription(
            "timezone", f"timezone {name!r} is not a known IANA zone"
        ) from None


@dataclass(frozen=True)
class BillingSchedule:
    """The periods of one subscription."""

    anchor: date
    interval: Interval
    timezone: str
    end_date: date | None = None
    """No period starts on or after this day."""
    max_periods: int | None = None
    """No more than this many periods (counted from the anchor)."""

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.end_date is not None and self.end_date <= self.anchor:
            raise InvalidSubscription(
                "end_date", f"end_date {self.end_date} must be after the anchor {self.anchor}"
            )
        if self.max_periods is not None and self.max_periods < 1:
            raise InvalidSubscription("max_periods", "max_periods must be at least 1")
        first = self.start(0)
        if first is None or (self.end_date is not None and first >= self.end_date):
            raise InvalidSubscription("interval", f"interval {self.interval} never fires")

    def start(self, index: int) -> date | None:
        """The first day of period ``index`` (ignoring the end), None if the rule stops."""
        i = self.interval
        if i.rule:
            starts = _cron_starts(i.rule, self.anchor, _bucket(index + 1))
            return starts[index] if index < len(starts) else None
        if i.unit is IntervalUnit.DAY:
            return self.anchor + timedelta(days=index * i.every)
        if i.unit is IntervalUnit.WEEK:
            return self.anchor + timedelta(weeks=index * i.every)
        months = 12 if i.unit is IntervalUnit.YEAR else 1
        return add_months(self.anchor, index * i.every * months)

    def exists(self, index: int) -> bool:
        if index < 0 or (self.max_periods is not None and index >= self.max_periods):
            return False
        first = self.start(index)
        return first is not None and (self.end_date is None or first < self.end_date)

    def period(self, index: int) -> Period | None:
        """Period ``index``, or None when the subscription has no such period."""
        if not self.exists(index):
            return None
        starts_on, ends_on = self.start(index), self.start(index + 1)
        assert starts_on is not None
        return Period(index, starts_on, ends_on or date.max)

    def midnight(self, day: date) -> datetime:
        """The UTC instant ``day`` begins in the schedule's zone (where a DST change skips
        midnight, the day begins when the clocks jump)."""
        local = datetime.combine(day, time(), tzinfo=zone(self.timezone))
        return local.astimezone(UTC)

    def due_at(self, index: int) -> datetime:
        first = self.start(index)
        return self.midnight(first if first is not None else date.max - timedelta(days=1))

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(zone(self.timezone)).date()

    def current_index(self, moment: datetime) -> int:
        """The last period (end ignored) due at ``moment``: -1 before the first."""
        day = self.local_date(moment)
        if self.interval.rule:
            return self._cron_index(day)
        index = self._estimate(day)
        while index >= 0 and self._after(index, day):
            index -= 1
        while not self._after(index + 1, day):
            index += 1
        return index

    def _cron_index(self, day: date) -> int:
        count = 16
        while True:
            starts = _cron_starts(self.interval.rule, self.anchor, count)
            if len(starts) < count or starts[-1] > day:
                return bisect.bisect_right(starts, day) - 1
            count *= 2

    def _after(self, index: int, day: date) -> bool:
        first = self.start(index)
        return first is None or first > day

    def _estimate(self, day: date) -> int:
        i, a = self.interval, self.anchor
        if day < a:
            return -1
        if i.unit is IntervalUnit.DAY:
            return (day - a).days // i.every
        if i.unit is IntervalUnit.WEEK:
            return (day - a).days // (7 * i.every)
        months = (day.year - a.year) * 12 + day.month - a.month
        return months // (i.every * (12 if i.unit is IntervalUnit.YEAR else 1))


def _bucket(count: int) -> int:
    """``count`` rounded up to a power of two (at least 16), so the cron cache is reused."""
    return max(16, 1 << max(count - 1, 0).bit_length())
