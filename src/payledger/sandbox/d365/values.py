"""Value formats: what F&O stores for each property type and how it writes them in JSON.

Enums are symbol strings, decimals bare JSON numbers, date-only fields ``YYYY-MM-DDT12:00:00Z``
(empty ``1900-01-01T12:00:00Z``), instants ``...Z`` (empty ``1900-01-01T00:00:00Z``), missing
strings ``""`` (fact sheet 3.3).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from payledger.sandbox.d365.catalog import Catalog, Property
from payledger.sandbox.d365.errors import ODataError, bad_request

EMPTY_DATE = date(1900, 1, 1)
EMPTY_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(2154, 12, 31, 23, 59, 59, tzinfo=UTC)
_INT_RANGES = {"int32": 2**31, "int64": 2**63}


def default_value(prop: Property, catalog: Catalog) -> Any:
    """What F&O returns for a property nobody set."""
    if prop.kind == "str":
        return ""
    if prop.kind == "dec":
        return Decimal(0)
    if prop.kind in _INT_RANGES:
        return 0
    if prop.kind == "guid":
        return "00000000-0000-0000-0000-000000000000"
    if prop.kind == "dto":
        return EMPTY_DATE if prop.is_date_only else EMPTY_INSTANT
    members = catalog.enums.get(prop.enum or "", ())
    return members[0] if members else None


def _cannot_convert(value: Any, type_name: str) -> ODataError:
    return bad_request(f"Cannot convert the literal '{value}' to the expected type '{type_name}'.")


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant; a bare date means midnight UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        if "T" in text:
            raise ValueError("a DateTimeOffset needs an offset")
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def coerce(prop: Property, value: Any, catalog: Catalog) -> Any:
    """The stored form of a JSON ``value`` sent for ``prop``; 400 when it does not fit."""
    if value is None:
        if prop.nullable:
            return default_value(prop, catalog) if prop.kind == "str" else None
        type_name = f"{prop.edm_type}[Nullable=False]"
        raise bad_request(
            f"A null value was found for the property named '{prop.name}', which has the "
            f"expected type '{type_name}'. The expected type '{type_name}' does not allow "
            "null values."
        )
    try:
        return _coerce(prop, value, catalog)
    except (ValueError, TypeError, InvalidOperation, ArithmeticError):
        raise _cannot_convert(value, prop.edm_type) from None


def _coerce(prop: Property, value: Any, catalog: Catalog) -> Any:
    kind = prop.kind
    if kind == "str":
        if not isinstance(value, str):
            raise TypeError
        return value
    if kind == "dec":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str, float)):
            raise TypeError
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError
        return number
    if kind in _INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        if abs(value) >= _INT_RANGES[kind]:
            raise ValueError
        return value
    if kind == "guid":
        return str(uuid.UUID(str(value)))
    if kind == "dto":
        moment = parse_instant(str(value))
        return moment.date() if prop.is_date_only else moment
    if value not in catalog.enums.get(prop.enum or "", ()):
        raise ValueError
    return value


def to_json(prop: Property, value: Any) -> Any:
    """The JSON form of a stored value."""
    if prop.kind == "dto" and value is not None:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{value.isoformat()}T12:00:00Z"
    return value


def as_instant(value: Any) -> Any:
    """Date-only values compared as the midday-UTC instant F&O stores them as."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(12), tzinfo=UTC)
    return value


_DECIMAL_MARK = re.compile(r'"\\u0000dec(\d+)\\u0000"')


def _prepare(obj: Any, numbers: list[str]) -> Any:
    if isinstance(obj, dict):
        return {k: _prepare(v, numbers) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_prepare(v, numbers) for v in obj]
    if isinstance(obj, Decimal):
        numbers.append(format(obj.normalize(), "f") if obj else "0")
        return f"\x00dec{len(numbers) - 1}\x00"
    return obj


def dumps(obj: Any) -> bytes:
    """JSON with Decimals written as exact bare numbers (``125.5``, ``0``, ``6800``)."""
    numbers: list[str] = []
    text = json.dumps(_prepare(obj, numbers), separators=(",", ":"))
    return _DECIMAL_MARK.sub(lambda m: numbers[int(m.group(1))], text).encode()


def loads(data: bytes | str) -> Any:
    """JSON with every non-integer number parsed as an exact Decimal."""
    return json.loads(data, parse_float=Decimal)
