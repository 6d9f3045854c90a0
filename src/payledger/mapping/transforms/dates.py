"""Dates and times between PayTrace Pacific text, ISO-8601 UTC and D365's date-only form.

* PayTrace writes local times without a zone, ``"4/10/2015 4:06:30 PM"``, and takes request
  dates as ``MM/DD/YYYY``; the zone is ``tz`` (default America/Los_Angeles). In the autumn
  "fall back" hour the earlier (daylight) reading is used, as the PayTrace adapter does.
* Inside payledger instants are ISO-8601 UTC text, ``2025-03-05T18:04:05Z``.
* D365 date-only fields travel as ``YYYY-MM-DDT12:00:00Z`` (midday UTC, so no zone moves the
  day); ``1900-01-01`` means empty.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from payledger.mapping.errors import TransformError
from payledger.mapping.schema import FieldType
from payledger.mapping.transforms.registry import INSTANT, transform

PACIFIC = "America/Los_Angeles"
_PAYTRACE_TEXT = "%m/%d/%Y %I:%M:%S %p"
EMPTY_YEAR = 1900


_ZONES: dict[str, ZoneInfo] = {}


def zone(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is not None:
        return found
    try:
        found = _ZONES[name] = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise TransformError(f"unknown time zone {name!r}") from None
    return found


def instant(value: Any) -> datetime:
    """An aware UTC datetime from a datetime or ISO-8601 text with an offset."""
    return aware(value).astimezone(UTC)


def aware(value: Any) -> datetime:
    """An aware datetime (in any zone) from a datetime or ISO-8601 text with an offset."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise TransformError(f"{value!r} is not an ISO-8601 date-time") from None
    else:
        raise TransformError(f"expected a date-time, got {type(value).__name__} {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TransformError(f"date-time {value!r} has no time zone")
    return moment


def calendar_day(value: Any, tz: str) -> date:
    """The day of ``value`` in ``tz``; a bare ``YYYY-MM-DD`` or ``date`` is taken as is."""
    if type(value) is date:
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise TransformError(f"{value!r} is not an ISO-8601 date") from None
    moment = aware(value)
    return moment.astimezone(UTC if tz == "UTC" else zone(tz)).date()


def iso_utc(moment: datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


@transform("to_iso_utc", accepts=INSTANT, returns=FieldType.DATETIME)
def to_iso_utc(value: Any) -> str:
    """Any aware date-time as ISO-8601 UTC text to the second (``...T18:04:05Z``)."""
    return iso_utc(instant(value))


@transform("paytrace_to_utc", accepts=(FieldType.STRING,), returns=FieldType.DATETIME)
def paytrace_to_utc(value: Any, *, tz: str = PACIFIC) -> str:
    """PayTrace local text ``"4/10/2015 4:06:30 PM"`` → ISO-8601 UTC."""
    if not isinstance(value, str):
        raise TransformError(f"expected PayTrace date text, got {value!r}")
    try:
        local = datetime.strptime(" ".join(value.split()), _PAYTRACE_TEXT)
    except ValueError:
        raise TransformError(f"{value!r} is not PayTrace date text (M/D/YYYY h:mm:ss AM)") from None
    return iso_utc(local.replace(tzinfo=zone(tz), fold=0).astimezone(UTC))


@transform("utc_to_paytrace", accepts=INSTANT, returns=FieldType.STRING)
def utc_to_paytrace(value: Any, *, tz: str = PACIFIC) -> str:
    """An instant → PayTrace local text ``"4/10/2015 4:06:30 PM"``."""
    local = instant(value).astimezone(zone(tz))
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return (
        f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d}:{local.second:02d}"
        f" {half}"
    )


@transform("paytrace_date", accepts=INSTANT, returns=FieldType.STRING)
def paytrace_date(value: Any, *, tz: str = PACIFIC) -> str:
    """An instant or day → a PayTrace request date ``MM/DD/YYYY`` (the day in ``tz``)."""
    day = calendar_day(value, tz)
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


@transform("d365_date", accepts=INSTANT, returns=FieldType.DATETIME)
def d365_date(value: Any, *, tz: str = "UTC") -> str:
    """An instant or day → D365 date-only ``YYYY-MM-DDT12:00:00Z`` (the day in ``tz``)."""
    day = calendar_day(value, tz)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}T12:00:00Z"


@transform("from_d365_date", accepts=INSTANT, returns=FieldType.DATE)
def from_d365_date(value: Any) -> str | None:
    """D365 date-only ``...T12:00:00Z`` → ``YYYY-MM-DD``; F&O's empty ``1900-01-01`` → missing."""
    day = instant(value).date()
    return None if day.year <= EMPTY_YEAR else day.isoformat()


@transform("local_date", accepts=INSTANT, returns=FieldType.DATE)
def local_date(value: Any, *, tz: str = "UTC") -> str:
    """An instant → the calendar day ``YYYY-MM-DD`` in ``tz``."""
    return calendar_day(value, tz).isoformat()
