"""Names and addresses: split and join person names, party types, address lines.

D365 keeps an organisation's name in ``OrganizationName`` and a person's in
``PersonFirstName``/``PersonMiddleName``/``PersonLastName``; PayTrace has one billing ``name``.
D365 keeps street lines in one multi-line ``AddressStreet``; PayTrace has ``street_address``
and ``street_address2``.
"""

from __future__ import annotations

from typing import Any

from payledger.mapping.errors import TransformError
from payledger.mapping.schema import FieldType
from payledger.mapping.transforms.registry import TEXT, transform

NAME_PARTS = ("first", "middle", "last")


def _parts(value: Any, name: str) -> list[str]:
    """Non-empty, trimmed text items of a list (or the lines of a text)."""
    if isinstance(value, str):
        items: list[Any] = value.splitlines()
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise TransformError(f"{name} needs text or a list, got {type(value).__name__}")
    parts = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise TransformError(f"{name} needs text items, got {type(item).__name__} {item!r}")
        if item.strip():
            parts.append(" ".join(item.split()))
    return parts


def name_parts(full_name: str) -> tuple[str, str, str]:
    """``"Steve A. Smith"`` or ``"Smith, Steve A."`` → (first, middle, last).

    One word is taken as the first name, as the D365 adapter does.
    """
    last_first = full_name.split(",", 1)
    if len(last_first) == 2 and last_first[0].strip() and last_first[1].strip():
        given = last_first[1].split()
        return given[0], " ".join(given[1:]), " ".join(last_first[0].split())
    words = full_name.split()
    if not words:
        return "", "", ""
    if len(words) == 1:
        return words[0], "", ""
    return words[0], " ".join(words[1:-1]), words[-1]


@transform("split_name", accepts=TEXT, returns=FieldType.STRING)
def split_name(value: Any, *, part: str) -> str:
    """One part (``first``, ``middle`` or ``last``) of a person's full name."""
    if part not in NAME_PARTS:
        raise TransformError(f"part must be one of {', '.join(NAME_PARTS)}, got {part!r}")
    if not isinstance(value, str):
        raise TransformError(f"split_name needs text, got {type(value).__name__}")
    return name_parts(value)[NAME_PARTS.index(part)]


@transform("join_name", accepts=(FieldType.LIST, FieldType.STRING), returns=FieldType.STRING)
def join_name(value: Any, *, sep: str = " ") -> str:
    """Join name parts (first, middle, last...) skipping empty ones."""
    return sep.join(_parts(value, "join_name"))


@transform("party_type", accepts=(FieldType.BOOLEAN,), returns=FieldType.STRING)
def party_type(value: Any) -> str:
    """``is_organization`` → D365 ``PartyType`` text (``Organization`` or ``Person``)."""
    if not isinstance(value, bool):
        raise TransformError(f"party_type needs true or false, got {value!r}")
    return "Organization" if value else "Person"


@transform("join_lines", accepts=(FieldType.LIST, FieldType.STRING), returns=FieldType.STRING)
def join_lines(value: Any, *, sep: str = "\n") -> str:
    """Join address lines (skipping empty ones) into one text, a line per ``sep``."""
    return sep.join(_parts(value, "join_lines"))


@transform("address_line", accepts=(FieldType.LIST, FieldType.STRING), returns=FieldType.STRING)
def address_line(value: Any, *, index: int, rest: bool = False, sep: str = ", ") -> str:
    """Line ``index`` (from 0) of a list or multi-line text; with ``rest``, it and all after."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise TransformError(f"index must be a whole number from 0, got {index!r}")
    lines = _parts(value, "address_line")
    if rest:
        return sep.join(lines[index:])
    return lines[index] if index < len(lines) else ""
