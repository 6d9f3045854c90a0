"""The sandbox clock and PayTrace's Pacific-time text formats."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")


class SandboxClock:
    """Aware-UTC time that tests move forward; frozen at ``start`` or following the wall clock."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self._start = start.astimezone(UTC) if start else None
        self._offset = timedelta()

    def now(self) -> datetime:
        base = self._start if self._start is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        return self.now()

    def advance_to(self, moment: datetime) -> datetime:
        return self.advance(max((moment.astimezone(UTC) - self.now()).total_seconds(), 0.0))

    def reset(self) -> None:
        self._offset = timedelta()


def pacific_text(moment: datetime) -> str:
    """``moment`` as PayTrace writes it: ``"4/10/2015 4:06:30 PM"`` in Pacific time."""
    local = moment.astimezone(PACIFIC)
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (
        f"{local.month}/{local.day}/{local.year} "
        f"{hour}:{local.minute:02d}:{local.second:02d} {meridiem}"
    )


def pacific_date(moment: datetime) -> date:
    return moment.astimezone(PACIFIC).date()


def pacific_moment(day: date, at: time) -> datetime:
    """The UTC instant of Pacific local ``day`` at ``at``."""
    return datetime.combine(day, at, tzinfo=PACIFIC).astimezone(UTC)


def parse_request_date(text: str) -> date:
    """A request date ``MM/DD/YYYY``; ``ValueError`` when malformed."""
    return datetime.strptime(text.strip(), "%m/%d/%Y").date()
