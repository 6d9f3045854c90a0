"""Query options and resource paths: ``$select $orderby $top $skip $count $expand`` and keys."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from payledger.sandbox.d365.catalog import Catalog, EntityType
from payledger.sandbox.d365.errors import bad_request, no_route
from payledger.sandbox.d365.filters import (
    Evaluator,
    comparable,
    compile_filter,
    invalid,
    parse_literal,
    tokenize,
)

_KNOWN_OPTIONS = {
    "$filter",
    "$select",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$expand",
    "$format",
    "cross-company",
}


@dataclass
class Expansion:
    navigation: str
    select: list[str] | None = None
    filter: Evaluator | None = None


@dataclass
class QueryOptions:
    """Parsed system query options of one request."""

    filter: Evaluator | None = None
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: list[Expansion] = field(default_factory=list)
    cross_company: bool = False


def _non_negative_int(name: str, text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()):
        raise invalid(f"Invalid value '{text}' for {name} query option found.")
    return int(text)


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current).strip())
    return [p for p in parts if p]


def parse_select(text: str, entity: EntityType) -> list[str] | None:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if "*" in names:
        return None
    for name in names:
        if name not in entity.properties:
            raise invalid(
                f"Could not find a property named '{name}' on type '{entity.qualified_type}'."
            )
    return names


def parse_orderby(text: str, entity: EntityType) -> list[tuple[str, bool]]:
    order = []
    for part in _split_top_level(text):
        name, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if name not in entity.properties or direction not in ("asc", "desc"):
            raise invalid(f"Invalid $orderby clause '{part}'.")
        order.append((name, direction == "desc"))
    return order


def parse_expand(
    text: str, entity: EntityType, catalog: Catalog, functions: bool
) -> list[Expansion]:
    expansions = []
    for part in _split_top_level(text):
        match = re.fullmatch(r"(\w+)(?:\((.*)\))?", part, re.DOTALL)
        navigation = entity.navigations.get(match.group(1)) if match else None
        if navigation is None:
            raise invalid(
                f"Could not find a property named '{part}' on type '{entity.qualified_type}'."
            )
        expansion = Expansion(navigation.name)
        target = catalog.entities[navigation.target_set]
        for option in (match.group(2) or "").split(";") if match else []:
            name, _, value = option.partition("=")
            name = name.strip()
            if not name:
                continue
            if name == "$expand":
                raise invalid(
                    "The request includes a $expand path which is too deep. "
                    "The maximum depth allowed is 1."
                )
            if name == "$select":
                expansion.select = parse_select(value, target)
            elif name == "$filter":
                expansion.filter = compile_filter(value, target, catalog, functions)
            else:
                raise invalid(f"Query option '{name}' is not supported inside $expand.")
        expansions.append(expansion)
    return expansions


def parse_options(
    params: Mapping[str, str], entity: EntityType | None, catalog: Catalog, functions: bool
) -> QueryOptions:
    """Parse and validate the query options of a request on ``entity``."""
    options = QueryOptions()
    for name in params:
        if name.startswith("$") and name not in _KNOWN_OPTIONS:
            raise invalid(f"The query parameter '{name}' is not supported.")
    options.cross_company = params.get("cross-company", "").lower() == "true"
    if entity is None:
        return options
    parsers: dict[str, Callable[[str], None]] = {
        "$filter": lambda v: setattr(
            options, "filter", compile_filter(v, entity, catalog, functions)
        ),
        "$select": lambda v: setattr(options, "select", parse_select(v, entity)),
        "$orderby": lambda v: setattr(options, "orderby", parse_orderby(v, entity)),
        "$top": lambda v: setattr(options, "top", _non_negative_int("$top", v)),
        "$skip": lambda v: setattr(options, "skip", _non_negative_int("$skip", v)),
        "$count": lambda v: setattr(options, "count", _parse_bool("$count", v)),
        "$expand": lambda v: setattr(
            options, "expand", parse_expand(v, entity, catalog, functions)
        ),
    }
    for name, parse in parsers.items():
        if name in params:
            parse(params[name])
    return options


def _parse_bool(name: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise invalid(f"'{text}' is not a valid value for {name}.")
    return text.lower() == "true"


def sort_rows(rows: list[dict[str, Any]], orderby: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Stable multi-key sort; insertion (RecId) order breaks ties."""
    for name, descending in reversed(orderby):
        present = [r for r in rows if r.get(name) is not None]
        missing = [r for r in rows if r.get(name) is None]
        present.sort(key=_sort_key(name), reverse=descending)
        rows = present + missing if not descending else missing + present
    return rows


def _sort_key(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: comparable(row[name])


def parse_key(text: str, entity: EntityType, catalog: Catalog) -> dict[str, Any]:
    """``dataAreaId='usmf',CustomerAccount='US-001'`` -> values; every key part is required."""
    values: dict[str, Any] = {}
    for part in _split_top_level(text):
        name, equals, literal = part.partition("=")
        if not equals:
            raise no_route()
        name = name.strip()
        if name not in entity.keys:
            raise bad_request(
                f"The key property '{name}' is not a key of type '{entity.qualified_type}'."
            )
        tokens = tokenize(literal.strip())
        if len(tokens) != 1:
            raise bad_request(f"Invalid key literal '{literal}'.")
        values[name] = parse_literal(tokens[0], catalog).literal
    if set(values) != set(entity.keys):
        raise no_route()
    return values
