"""The template model: frozen dataclasses for a parsed template (the YAML is read by
:mod:`payledger.mapping.parse`).

A template maps one source document to one target record. Each field has a *value*: a source
(path, constant, JSONata expression, conditional, first-of, list or format) followed by a
pipeline of named transforms (a lookup table is the ``lookup`` transform).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Operation = Literal["create", "update"]
Overflow = Literal["fail", "truncate"]


@dataclass(frozen=True, slots=True)
class TableArg:
    """A lookup table argument: a table of the template by name, or an inline table."""

    name: str | None
    table: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Step:
    """One transform in a field's pipeline, with its arguments."""

    name: str
    args: Mapping[str, Value | TableArg]


@dataclass(frozen=True, slots=True)
class PathSource:
    path: str


@dataclass(frozen=True, slots=True)
class ConstSource:
    value: Any


@dataclass(frozen=True, slots=True)
class JsonataSource:
    expression: str


@dataclass(frozen=True, slots=True)
class Predicate:
    """``value`` compared by ``op`` (truthy, present, equals, not_equals, in, not_in)."""

    value: Value
    op: str
    operand: Any = None


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Predicate | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class IfSource:
    condition: Condition
    then: Value
    otherwise: Value | None


@dataclass(frozen=True, slots=True)
class FirstOfSource:
    """The first option that is present (not None and not empty text)."""

    options: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class ListSource:
    items: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class FormatSource:
    """``str.format`` of ``pattern`` with named ``values``; missing if any value is missing."""

    pattern: str
    values: Mapping[str, Value]


Source = (
    PathSource | ConstSource | JsonataSource | IfSource | FirstOfSource | ListSource | FormatSource
)


@dataclass(frozen=True, slots=True)
class Value:
    source: Source
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One target field: where its value comes from and what happens when it is missing."""

    target: str
    """The target property, dotted for nested PayTrace fields, may hold ``${settings...}``."""
    value: Value
    default: Value | None = None
    optional: bool = False
    max_length: int | None = None
    on_overflow: Overflow = "fail"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    system: str
    """``d365`` or ``paytrace``."""
    entity: str
    """A D365 entity set, or a PayTrace request (``transaction_request``, ``customer_profile``)."""
    operation: Operation = "create"
    server_assigned: tuple[str, ...] = ()
    """Key properties the target system assigns (number sequences), not the template."""


@dataclass(frozen=True)
class Template:
    name: str
    target: Target
    fields: tuple[FieldSpec, ...]
    description: str = ""
    needs: tuple[str, ...] = ()
    """Enrichment lookups the flow must put under ``enrich`` before mapping."""
    tables: Mapping[str, Mapping[str, Any]] | None = None
