"""Static facts about template values: the paths they read, their type, their possible constants."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from payledger.mapping.schema import FieldType, type_of_value
from payledger.mapping.template import (
    AllOf,
    AnyOf,
    Condition,
    ConstSource,
    FirstOfSource,
    FormatSource,
    IfSource,
    JsonataSource,
    ListSource,
    Not,
    PathSource,
    Predicate,
    TableArg,
    Value,
)
from payledger.mapping.transforms import REGISTRY

FIXED_RESULTS: dict[str, tuple[str, ...]] = {
    "yes_no": ("Yes", "No"),
    "party_type": ("Organization", "Person"),
    "journal_side": ("credit", "debit"),
}


def values_in(value: Value) -> Iterator[Value]:
    """``value`` and every value nested in it (branches, options, arguments, conditions)."""
    yield value
    source = value.source
    if isinstance(source, IfSource):
        yield from _condition_values(source.condition)
        yield from values_in(source.then)
        if source.otherwise is not None:
            yield from values_in(source.otherwise)
    elif isinstance(source, FirstOfSource | ListSource):
        for item in source.options if isinstance(source, FirstOfSource) else source.items:
            yield from values_in(item)
    elif isinstance(source, FormatSource):
        for item in source.values.values():
            yield from values_in(item)
    for step in value.steps:
        for arg in step.args.values():
            if isinstance(arg, Value):
                yield from values_in(arg)


def _condition_values(condition: Condition) -> Iterator[Value]:
    if isinstance(condition, Predicate):
        yield from values_in(condition.value)
    elif isinstance(condition, Not):
        yield from _condition_values(condition.item)
    elif isinstance(condition, AllOf | AnyOf):
        for item in condition.items:
            yield from _condition_values(item)


def paths_in(value: Value) -> Iterator[str]:
    """Every source path a value may read."""
    for item in values_in(value):
        if isinstance(item.source, PathSource):
            yield item.source.path


def _common(types: list[FieldType]) -> FieldType:
    distinct = set(types)
    return distinct.pop() if len(distinct) == 1 else FieldType.ANY


def source_type(value: Value, path_type: Any) -> FieldType:
    """The type the source of ``value`` produces, before its transforms."""
    source = value.source
    if isinstance(source, PathSource):
        found: FieldType = path_type(source.path)
        return found
    if isinstance(source, ConstSource):
        return type_of_value(source.value)
    if isinstance(source, JsonataSource):
        return FieldType.ANY
    if isinstance(source, IfSource):
        branches = [source.then] + ([source.otherwise] if source.otherwise else [])
        return _common([value_type(branch, path_type) for branch in branches])
    if isinstance(source, FirstOfSource):
        return _common([value_type(option, path_type) for option in source.options])
    if isinstance(source, ListSource):
        return FieldType.LIST
    return FieldType.STRING


def value_type(value: Value, path_type: Any) -> FieldType:
    """The type ``value`` produces; ``path_type(path)`` types source paths."""
    produced = source_type(value, path_type)
    for position, step in enumerate(value.steps):
        if step.name == "lookup":
            upto = Value(value.source, value.steps[: position + 1])
            produced = _common([type_of_value(v) for v in possible_values(upto) or []])
        else:
            produced = REGISTRY[step.name].returns
    return produced


def step_inputs(value: Value, path_type: Any) -> Iterator[tuple[str, FieldType]]:
    """(transform, input type) for each step of ``value``, to check against ``accepts``."""
    produced = source_type(value, path_type)
    for position, step in enumerate(value.steps):
        yield step.name, produced
        produced = value_type(Value(value.source, value.steps[: position + 1]), path_type)


def possible_values(value: Value) -> list[Any] | None:
    """Every value ``value`` can produce when that is known statically, else None."""
    if value.steps:
        last = value.steps[-1]
        if last.name in FIXED_RESULTS:
            return list(FIXED_RESULTS[last.name])
        if last.name != "lookup":
            return None
        table = last.args["table"]
        results = list(table.table.values()) if isinstance(table, TableArg) else []
        default = last.args.get("default")
        if isinstance(default, Value):
            extra = possible_values(default)
            if extra is None:
                return None
            results += extra
        return results
    source = value.source
    if isinstance(source, ConstSource):
        return [source.value]
    if isinstance(source, IfSource):
        branches = [source.then] + ([source.otherwise] if source.otherwise else [])
        return _union([possible_values(branch) for branch in branches])
    if isinstance(source, FirstOfSource):
        return _union([possible_values(option) for option in source.options])
    return None


def _union(groups: list[list[Any] | None]) -> list[Any] | None:
    if any(group is None for group in groups):
        return None
    return [item for group in groups for item in group or []]
