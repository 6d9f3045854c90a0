"""The registry of named transforms a template may use.

A transform is a pure function ``fn(value, *, arg=...)``. Keyword-only parameters without a
default are required; a parameter named ``table`` takes a lookup table (a template table name
or an inline mapping) instead of a value. The engine never calls a transform with a missing
value (None or ``""``): the missing value flows on to the field's default/optional rule.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from payledger.mapping.schema import FieldType

TABLE_PARAMS = frozenset({"table"})


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    required: bool
    is_table: bool = False


@dataclass(frozen=True, slots=True)
class Transform:
    """A registered transform and what validation needs to know about it."""

    name: str
    fn: Callable[..., Any]
    params: tuple[Param, ...]
    accepts: frozenset[FieldType]
    """Input types it understands (empty: any)."""
    returns: FieldType
    summary: str

    def param(self, name: str) -> Param | None:
        return next((param for param in self.params if param.name == name), None)


REGISTRY: dict[str, Transform] = {}


def _params_of(fn: Callable[..., Any]) -> tuple[Param, ...]:
    params = []
    for parameter in list(inspect.signature(fn).parameters.values())[1:]:
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"transform {fn.__name__}: arguments must be keyword-only")
        required = parameter.default is inspect.Parameter.empty
        params.append(Param(parameter.name, required, parameter.name in TABLE_PARAMS))
    return tuple(params)


def transform(
    name: str, *, accepts: Iterable[FieldType] = (), returns: FieldType = FieldType.ANY
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` under ``name``; its docstring's first line is the summary."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"transform {name!r} is registered twice")
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        REGISTRY[name] = Transform(name, fn, _params_of(fn), frozenset(accepts), returns, summary)
        return fn

    return register


TEXT = (FieldType.STRING, FieldType.ENUM, FieldType.GUID)
NUMBER = (FieldType.DECIMAL, FieldType.INTEGER)
INSTANT = (FieldType.DATETIME, FieldType.DATE, FieldType.STRING)
