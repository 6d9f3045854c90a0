"""Dotted paths with ``${settings...}`` placeholders: splitting, resolving, reading.

``enrich.d365_customer.${settings.d365.fields.customer_paytrace_id}`` is split on the dots
outside placeholders, then each placeholder is replaced by the configured name, so the
configured name may contain any character (PayTrace titles hold spaces).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from payledger.mapping.errors import TransformError

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

Reader = Callable[[Any], Any]


def split_path(text: str) -> tuple[str, ...]:
    """Split on dots that are not inside ``${...}``."""
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    for index, char in enumerate(text):
        if char == "{" and index and text[index - 1] == "$":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        if char == "." and not depth:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return tuple(segments)


def placeholders(text: str) -> list[str]:
    """The setting paths named by placeholders in ``text``."""
    return [match.strip() for match in _PLACEHOLDER.findall(text)]


def lookup(data: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested dicts/lists, or None when any step is missing."""
    value = data
    for segment in path:
        if isinstance(value, Mapping):
            value = value.get(segment)
        elif isinstance(value, list | tuple) and segment.isdigit():
            index = int(segment)
            value = value[index] if index < len(value) else None
        elif value is None:
            return None
        else:
            raise TransformError(f"cannot read {segment!r} from {type(value).__name__} {value!r}")
        if value is None:
            return None
    return value


def resolve(text: str, settings: Mapping[str, Any]) -> str | None:
    """``text`` with placeholders filled from ``settings``; None if one is not configured."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = lookup(settings, split_path(match.group(1).strip().removeprefix("settings.")))
        if value is None or value == "" or isinstance(value, dict | list):
            missing = True
            return ""
        return str(value)

    resolved = _PLACEHOLDER.sub(fill, text)
    return None if missing else resolved


def resolve_path(text: str, settings: Mapping[str, Any]) -> tuple[str, ...] | None:
    """A path split into segments with placeholders filled, or None if one is missing."""
    segments = []
    for segment in split_path(text):
        resolved = resolve(segment, settings)
        if resolved is None:
            return None
        segments.append(resolved)
    return tuple(segments)


def reader(segments: tuple[str, ...]) -> Reader:
    """A fast reader for ``segments``: plain dict steps first, the general walk otherwise."""
    if len(segments) == 1:
        (first,) = segments
        return lambda doc: doc.get(first) if type(doc) is dict else lookup(doc, segments)
    if len(segments) == 2:
        first, second = segments

        def read_two(doc: Any) -> Any:
            outer = doc.get(first) if type(doc) is dict else lookup(doc, segments[:1])
            if type(outer) is dict:
                return outer.get(second)
            return None if outer is None else lookup(outer, segments[1:])

        return read_two
    if len(segments) == 3:
        first, second, third = segments

        def read_three(doc: Any) -> Any:
            outer = doc.get(first) if type(doc) is dict else lookup(doc, segments[:1])
            if outer is None:
                return None
            inner = outer.get(second) if type(outer) is dict else lookup(outer, segments[1:2])
            if type(inner) is dict:
                return inner.get(third)
            return None if inner is None else lookup(inner, segments[2:])

        return read_three
    return lambda doc: lookup(doc, segments)
