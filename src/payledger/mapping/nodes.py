"""Compiled values: each template value becomes one closure ``fn(doc, scope)``, built once.

Paths are pre-split, ``settings`` paths and constant pipelines are folded at compile time,
JSONata is parsed once per expression. When ``scope.trace`` is set (preview) the closures
record the paths they read and the transforms they applied; otherwise they do no extra work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payledger.mapping.errors import TransformError
from payledger.mapping.paths import reader


class Trace:
    """What produced one field's value: source paths read and steps applied, in order."""

    __slots__ = ("sources", "steps")

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.steps: list[str] = []


class Scope:
    """Per-record state: the preview trace and the JSONata view of the document (lazy)."""

    __slots__ = ("_json", "doc", "json_settings", "trace")

    def __init__(self, doc: Any, json_settings: Any, trace: Trace | None = None) -> None:
        self.doc, self.json_settings, self.trace = doc, json_settings, trace
        self._json: Any = None

    def json_input(self) -> Any:
        if self._json is None:
            view = to_json_types(self.doc)
            if isinstance(view, dict):
                view["settings"] = self.json_settings
            self._json = view
        return self._json


Fn = Callable[[Any, Scope], Any]


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled value: its closure and what it statically reads and applies."""

    fn: Fn
    sources: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    constant: bool = False
    value: Any = None


def missing(value: Any) -> bool:
    """None and empty text both mean "no value" (D365 sends ``""`` for unset strings)."""
    return value is None or (type(value) is str and not value)


def constant(value: Any, sources: tuple[str, ...] = (), steps: tuple[str, ...] = ()) -> Node:
    """A node whose value is known at compile time; in preview it still reports its lineage."""
    if sources or steps:

        def fn(doc: Any, scope: Scope) -> Any:
            if scope.trace is not None:
                scope.trace.sources.extend(sources)
                scope.trace.steps.extend(steps)
            return value

    else:

        def fn(doc: Any, scope: Scope) -> Any:
            return value

    return Node(fn, sources, steps, constant=True, value=value)


def path_node(label: str, segments: tuple[str, ...]) -> Node:
    """Read a document path; one- and two-step paths over plain dicts take a fast lane."""
    read = reader(segments)
    if len(segments) == 2:
        first, second = segments

        def fn(doc: Any, scope: Scope) -> Any:
            if scope.trace is not None:
                scope.trace.sources.append(label)
            outer = doc.get(first) if type(doc) is dict else read(doc)
            if type(outer) is dict:
                return outer.get(second)
            return None if outer is None else read(doc)

    else:

        def fn(doc: Any, scope: Scope) -> Any:
            if scope.trace is not None:
                scope.trace.sources.append(label)
            return read(doc)

    return Node(fn, (label,))


def to_json_types(value: Any) -> Any:
    """A copy JSONata accepts: Decimals become JSON numbers (int when whole, else float)."""
    if isinstance(value, dict):
        return {str(key): to_json_types(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_types(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def from_json_types(value: Any) -> Any:
    """JSONata's result with floats turned back into Decimals (via their shortest text)."""
    if isinstance(value, dict):
        return {key: from_json_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json_types(item) for item in value]
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TransformError(f"JSONata produced a non-finite number {value!r}")
        return Decimal(repr(value))
    return value


def jsonata_node(expression: str, compiled: Any) -> Node:
    label = f"jsonata({expression})"

    def fn(doc: Any, scope: Scope) -> Any:
        if scope.trace is not None:
            scope.trace.sources.append(label)
        try:
            result = compiled.evaluate(scope.json_input())
        except Exception as exc:
            raise TransformError(f"JSONata expression {expression!r} failed: {exc}") from exc
        return from_json_types(result)

    return Node(fn, (label,))


def settings_view(settings: Mapping[str, Any]) -> Any:
    return to_json_types(dict(settings))
