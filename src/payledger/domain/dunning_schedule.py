"""When a soft-declined charge is retried: at a local time on given days after the decline.

Retry N is due at ``at`` local time on day ``days[N-1]`` after the local date of the first
decline. The next retry is worked out from two stored instants only (the first decline and
the last attempt), so a restart, or a worker that ran late, never shifts or repeats one: a
scheduled day that is not after the last attempt's local day is passed over, so no two
scheduled attempts fall on one local day. Local times are turned into instants with the zone's
rules of that day: across a DST change the retry keeps its wall-clock time, and a time the
clocks skip is taken as the instant the clocks jump to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class RetrySchedule:
    days: tuple[int, ...] = (1, 3, 5, 7)
    """Days after the first decline, increasing."""
    at: time = time(10, 0)
    timezone: str = "America/Los_Angeles"

    def __post_init__(self) -> None:
        if any(d < 1 for d in self.days) or list(self.days) != sorted(set(self.days)):
            raise ValueError("retry days must be increasing whole days from 1 on")

    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.timezone)).date()

    def due_on(self, day: date) -> datetime:
        """The instant of ``at`` on local ``day`` (UTC)."""
        zone = ZoneInfo(self.timezone)
        wall = datetime.combine(day, self.at)
        instant = wall.replace(tzinfo=zone).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != wall:  # skipped by a DST jump
            instant = _jump_after(wall, zone)
        return instant

    def next_retry(self, first_declined_at: datetime, last_attempt_at: datetime) -> datetime | None:
        """The next scheduled retry after an attempt at ``last_attempt_at``, or None when the
        schedule is over."""
        start, last = self.local_day(first_declined_at), self.local_day(last_attempt_at)
        for n in self.days:
            day = start + timedelta(days=n)
            if day > last:
                return self.due_on(day)
        return None


def _jump_after(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose local time is past ``wall`` (the end of a DST gap)."""
    before = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(before, after), max(before, after)
    step = low
    while step <= high:
        if step.astimezone(zone).replace(tzinfo=None) >= wall:
            return step
        step += timedelta(minutes=1)
    return high
