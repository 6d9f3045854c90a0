"""OData v4 as F&O speaks it: literals, filters, queries, key paths, paging, exact JSON.

>>> q = ODataQuery("CustomersV3").where(field("OrganizationName").contains("retail"))
>>> q.select("CustomerAccount").top(5).params()  # doctest: +NORMALIZE_WHITESPACE
[('cross-company', 'true'), ('$filter', "OrganizationName eq '*retail*'"),
 ('$select', 'CustomerAccount'), ('$top', '5')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from payledger.domain.errors import MappingError

NAMESPACE = "Microsoft.Dynamics.DataEntities"
WILDCARD = "*"
"""F&O matches ``*`` in an ``eq``/``ne`` string as any text and documents no escape for it."""


class WildcardInValue(MappingError):
    """A value holds F&O's ``*`` wildcard, so no ``eq``/``ne`` filter matches it exactly."""


@dataclass(frozen=True)
class EnumValue:
    """An enum member, written ``Microsoft.Dynamics.DataEntities.NoYes'Yes'`` in filters."""

    enum: str
    member: str


def literal(value: Any) -> str:
    """The URL literal for ``value``: quoted strings with ``'`` doubled, bare numbers and dates.

    Dates (no time) are written as midday UTC, F&O's convention for date-only fields.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EnumValue):
        return f"{NAMESPACE}.{value.enum}'{value.member}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return format_date(value)
    raise TypeError(f"no OData literal for {type(value).__name__}; use str, int, Decimal or dates")


def format_instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes sent to D365 must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_date(day: date) -> str:
    """A date-only value as F&O stores it: ``YYYY-MM-DDT12:00:00Z``."""
    return f"{day.isoformat()}T12:00:00Z"


def escape_display_value(segment: str) -> str:
    r"""Escape a ledger-dimension segment: ``US-001`` -> ``US\-001``, ``\`` -> ``\\``."""
    return segment.replace("\\", "\\\\").replace("-", "\\-")


def unescape_display_value(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


@dataclass(frozen=True)
class Filter:
    """A ``$filter`` expression; combine with ``&``, ``|`` and ``~``."""

    text: str

    def __and__(self, other: Filter) -> Filter:
        return Filter(f"({self.text}) and ({other.text})")

    def __or__(self, other: Filter) -> Filter:
        return Filter(f"({self.text}) or ({other.text})")

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Field:
    """A property reference that builds comparisons with correctly escaped literals."""

    name: str

    def _compare(self, operator: str, value: Any) -> Filter:
        return Filter(f"{self.name} {operator} {literal(value)}")

    def _exact(self, operator: str, value: Any) -> Filter:
        if isinstance(value, str) and WILDCARD in value:
            raise WildcardInValue(
                f"{self.name} {value!r} cannot be matched exactly in D365: '*' is a wildcard "
                "in its filters (and cannot be escaped)"
            )
        return self._compare(operator, value)

    def eq(self, value: Any) -> Filter:
        """Equal, exactly: a string holding ``*`` raises :class:`WildcardInValue` (use
        :meth:`matches` for a wildcard match)."""
        return self._exact("eq", value)

    def ne(self, value: Any) -> Filter:
        """Not equal, exactly (``*`` refused as in :meth:`eq`)."""
        return self._exact("ne", value)

    def gt(self, value: Any) -> Filter:
        return self._compare("gt", value)

    def ge(self, value: Any) -> Filter:
        return self._compare("ge", value)

    def lt(self, value: Any) -> Filter:
        return self._compare("lt", value)

    def le(self, value: Any) -> Filter:
        return self._compare("le", value)

    def matches(self, pattern: str) -> Filter:
        """F&O's documented wildcard match: ``Name eq '*retail*'`` (``*`` = any text)."""
        return self._compare("eq", pattern)

    def contains(self, text: str) -> Filter:
        return self.matches(f"*{text}*")

    def startswith(self, text: str) -> Filter:
        return self.matches(f"{text}*")


def field(name: str) -> Field:
    return Field(name)


def all_of(*filters: Filter) -> Filter:
    result = filters[0]
    for other in filters[1:]:
        result = result & other
    return result


def any_of(*filters: Filter) -> Filter:
    result = filters[0]
    for other in filters[1:]:
        result = result | other
    return result


@dataclass(frozen=True)
class ODataQuery:
    """An immutable query on one entity set; ``cross-company=true`` unless told otherwise."""

    entity_set: str
    filter: Filter | None = None
    selected: tuple[str, ...] = ()
    ordering: tuple[str, ...] = ()
    limit: int | None = None
    offset: int | None = None
    with_count: bool = False
    expansions: tuple[str, ...] = ()
    cross_company: bool = True
    extra: tuple[tuple[str, str], ...] = dataclass_field(default=())

    def where(self, condition: Filter) -> ODataQuery:
        combined = condition if self.filter is None else self.filter & condition
        return replace(self, filter=combined)

    def select(self, *names: str) -> ODataQuery:
        return replace(self, selected=self.selected + names)

    def order_by(self, *names: str, descending: bool = False) -> ODataQuery:
        suffix = " desc" if descending else ""
        return replace(self, ordering=self.ordering + tuple(n + suffix for n in names))

    def top(self, count: int) -> ODataQuery:
        return replace(self, limit=count)

    def skip(self, count: int) -> ODataQuery:
        return replace(self, offset=count)

    def count(self) -> ODataQuery:
        return replace(self, with_count=True)

    def expand(self, navigation: str, *, select: tuple[str, ...] | list[str] = ()) -> ODataQuery:
        """One-level ``$expand`` (F&O's limit), optionally with a nested ``$select``."""
        text = f"{navigation}($select={','.join(select)})" if select else navigation
        return replace(self, expansions=(*self.expansions, text))

    def in_company_only(self) -> ODataQuery:
        return replace(self, cross_company=False)

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if self.cross_company:
            params.append(("cross-company", "true"))
        if self.filter is not None:
            params.append(("$filter", self.filter.text))
        if self.selected:
            params.append(("$select", ",".join(self.selected)))
        if self.expansions:
            params.append(("$expand", ",".join(self.expansions)))
        if self.ordering:
            params.append(("$orderby", ",".join(self.ordering)))
        if self.limit is not None:
            params.append(("$top", str(self.limit)))
        if self.offset is not None:
            params.append(("$skip", str(self.offset)))
        if self.with_count:
            params.append(("$count", "true"))
        return params + list(self.extra)


def key_path(entity_set: str, key: Mapping[str, Any]) -> str:
    """``Set(dataAreaId='usmf',CustomerAccount='US-001')``: every key part named, each literal
    URL-encoded after its quotes are doubled (``#``, ``?``, ``%``, ``/`` cannot end the path)."""
    parts = ",".join(
        f"{name}={quote(literal(value), safe=_KEY_SAFE)}" for name, value in key.items()
    )
    return f"{entity_set}({parts})"


_KEY_SAFE = "'.-_~:"
"""Characters left as they are in a key literal (quotes delimit it; ``:`` is in dates)."""


@dataclass
class NextLinkPaginator:
    """Follows ``@odata.nextLink`` verbatim until the server stops sending one."""

    next_url: str | None = None
    pages: int = 0
    started: bool = False

    def update_state(self, payload: Mapping[str, Any]) -> None:
        self.started = True
        self.pages += 1
        self.next_url = payload.get("@odata.nextLink")

    @property
    def has_next_page(self) -> bool:
        return not self.started or self.next_url is not None


_DECIMAL_MARK = re.compile(r'"\\u0000dec(\d+)\\u0000"')


def _prepare(obj: Any, numbers: list[str]) -> Any:
    if isinstance(obj, Mapping):
        return {k: _prepare(v, numbers) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_prepare(v, numbers) for v in obj]
    if isinstance(obj, Decimal):
        numbers.append(format(obj, "f"))
        return f"\x00dec{len(numbers) - 1}\x00"
    if isinstance(obj, float):
        raise TypeError("floats are not sent to D365; use Decimal")
    if isinstance(obj, datetime):
        return format_instant(obj)
    if isinstance(obj, date):
        return format_date(obj)
    if isinstance(obj, EnumValue):
        return obj.member
    return obj


def dumps(payload: Any) -> bytes:
    """JSON for F&O: Decimals as exact bare numbers, datetimes as ``...Z``, dates at midday."""
    numbers: list[str] = []
    text = json.dumps(_prepare(payload, numbers), separators=(",", ":"))
    return _DECIMAL_MARK.sub(lambda m: numbers[int(m.group(1))], text).encode()


def loads(data: bytes | str) -> Any:
    """JSON with every non-integer number parsed as an exact Decimal."""
    return json.loads(data, parse_float=Decimal)
