"""Compile template values (sources, conditions, transform pipelines) into nodes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from payledger.mapping import nodes
from payledger.mapping.errors import TemplateError, TransformError
from payledger.mapping.nodes import Node, Scope, Trace, constant, missing
from payledger.mapping.parse import parse_jsonata
from payledger.mapping.paths import lookup, resolve_path
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
    Step,
    TableArg,
    Value,
)
from payledger.mapping.transforms import REGISTRY
from payledger.mapping.transforms.text import table_key

SETTINGS = "settings"


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def same(left: Any, right: Any) -> bool:
    """Equality for conditions: numbers by value, everything else as text."""
    if _number(left) and _number(right):
        return bool(left == right)
    return table_key(left) == table_key(right)


class ValueCompiler:
    """Compiles the values of one field; errors name the template and the field."""

    def __init__(self, template: str, field: str, settings: Mapping[str, Any]) -> None:
        self.template, self.field, self.settings = template, field, settings

    def fail(self, reason: str) -> TemplateError:
        return TemplateError(self.template, self.field, reason)

    def value(self, value: Value) -> Node:
        node = self.source(value.source)
        for step in value.steps:
            node = self.step(node, step)
        return node

    def source(self, source: Any) -> Node:
        if isinstance(source, PathSource):
            return self.path(source.path)
        if isinstance(source, ConstSource):
            return constant(source.value)
        if isinstance(source, JsonataSource):
            return nodes.jsonata_node(source.expression, parse_jsonata(source.expression))
        if isinstance(source, IfSource):
            return self.conditional(source)
        if isinstance(source, FirstOfSource):
            return self.first_of([self.value(option) for option in source.options])
        if isinstance(source, ListSource):
            return self.list_of([self.value(item) for item in source.items])
        return self.format(source)

    def path(self, text: str) -> Node:
        segments = resolve_path(text, self.settings)
        if segments is None:
            return constant(None, (text,), ("a setting this path names is not configured",))
        label = ".".join(segments)
        if segments[0] == SETTINGS:
            return constant(lookup(self.settings, segments[1:]), (label,))
        return nodes.path_node(label, segments)

    def conditional(self, source: IfSource) -> Node:
        test, test_sources = self.condition(source.condition)
        then = self.value(source.then)
        otherwise = self.value(source.otherwise) if source.otherwise else constant(None)

        def fn(doc: Any, scope: Scope) -> Any:
            trace = scope.trace
            if trace is None:
                return then.fn(doc, scope) if test(doc, scope) else otherwise.fn(doc, scope)
            scope.trace = Trace()
            try:
                chosen = test(doc, scope)
            finally:
                read, scope.trace = scope.trace.sources, trace
            trace.steps.append(
                f"if {', '.join(read) or 'constant'} → {'then' if chosen else 'else'}"
            )
            return then.fn(doc, scope) if chosen else otherwise.fn(doc, scope)

        sources = (*test_sources, *then.sources, *otherwise.sources)
        return Node(fn, sources, (*then.steps, *otherwise.steps))

    def condition(self, condition: Condition) -> tuple[Any, tuple[str, ...]]:
        if isinstance(condition, Not):
            inner, sources = self.condition(condition.item)
            return (lambda doc, scope: not inner(doc, scope)), sources
        if isinstance(condition, AllOf | AnyOf):
            parts = [self.condition(item) for item in condition.items]
            tests = tuple(test for test, _ in parts)
            sources = tuple(source for _, part_sources in parts for source in part_sources)
            return combined(tests, isinstance(condition, AllOf)), sources
        node = self.value(condition.value)
        return predicate(node.fn, condition.op, condition.operand), node.sources

    def first_of(self, options: list[Node]) -> Node:
        fns = tuple(option.fn for option in options)

        def fn(doc: Any, scope: Scope) -> Any:
            trace = scope.trace
            if trace is None:
                for option_fn in fns:
                    value = option_fn(doc, scope)
                    if value is not None and (type(value) is not str or value):
                        return value
                return None
            # Preview: report only the option that gave the value.
            for position, option in enumerate(options, 1):
                mark = len(trace.sources)
                value = option.fn(doc, scope)
                if not missing(value):
                    trace.steps.append(f"first_of: option {position} of {len(options)}")
                    return value
                del trace.sources[mark:]
            return None

        return Node(fn, _sources(options), _steps(options))

    def list_of(self, items: list[Node]) -> Node:
        def fn(doc: Any, scope: Scope) -> Any:
            return [item.fn(doc, scope) for item in items]

        if all(item.constant for item in items):
            return constant([item.value for item in items], _sources(items), _steps(items))
        return Node(fn, _sources(items), _steps(items))

    def format(self, source: FormatSource) -> Node:
        parts = {name: self.value(value) for name, value in source.values.items()}
        pattern, items = source.pattern, tuple(parts.items())
        label = f"format({pattern!r})"

        def fn(doc: Any, scope: Scope) -> Any:
            values = {}
            for name, part in items:
                value = part.fn(doc, scope)
                if value is None or (type(value) is str and not value):
                    return None
                values[name] = value
            try:
                text = pattern.format_map(values)
            except (ValueError, TypeError) as exc:
                raise TransformError(f"format {pattern!r} failed: {exc}") from exc
            if scope.trace is not None:
                scope.trace.steps.append(label)
            return text

        nodes_ = list(parts.values())
        return Node(fn, _sources(nodes_), (*_steps(nodes_), label))

    def step(self, node: Node, step: Step) -> Node:
        """Apply a transform; an argument read from a path or setting must have a value."""
        definition = REGISTRY[step.name]
        fixed: dict[str, Any] = {}
        varying: list[tuple[str, Node]] = []
        for name, arg in step.args.items():
            if isinstance(arg, TableArg):
                fixed[name] = arg.table
                continue
            arg_node = self.value(arg)
            if not arg_node.constant:
                varying.append((name, arg_node))
            elif arg_node.sources and missing(arg_node.value):
                source = ", ".join(arg_node.sources)
                raise self.fail(f"transform {step.name}: argument {name} has no value ({source})")
            else:
                fixed[name] = arg_node.value
        label = _label(step, fixed, varying)
        if not varying and node.constant:
            return self.fold(node, definition.fn, fixed, label)
        return _apply(node, definition.fn, fixed, varying, label)

    def fold(self, node: Node, fn: Any, fixed: dict[str, Any], label: str) -> Node:
        if missing(node.value):
            return constant(node.value, node.sources, node.steps)
        try:
            value = fn(node.value, **fixed)
        except Exception as exc:
            raise self.fail(f"{label} fails on constant {node.value!r}: {exc}") from None
        return constant(value, node.sources, (*node.steps, label))


def combined(tests: tuple[Any, ...], every: bool) -> Any:
    """All (``every``) or any of ``tests``, stopping at the first that decides."""

    def test(doc: Any, scope: Scope) -> bool:
        for item in tests:
            if bool(item(doc, scope)) is not every:
                return not every
        return every

    return test


def predicate(read: Any, op: str, operand: Any) -> Any:
    """A test ``fn(doc, scope) -> bool`` for one predicate."""
    if op == "truthy":
        return lambda doc, scope: bool(read(doc, scope))
    if op == "present":
        return lambda doc, scope: (not missing(read(doc, scope))) is operand
    if op in ("equals", "not_equals"):
        wanted = op == "equals"
        return lambda doc, scope: same(read(doc, scope), operand) is wanted
    wanted, options = op == "in", tuple(operand)

    def member(doc: Any, scope: Scope) -> bool:
        value = read(doc, scope)
        return any(same(value, option) for option in options) is wanted

    return member


def _apply(
    node: Node, fn: Any, fixed: dict[str, Any], varying: list[tuple[str, Node]], label: str
) -> Node:
    inner = node.fn
    if not varying:

        def run(doc: Any, scope: Scope) -> Any:
            value = inner(doc, scope)
            if value is None or (type(value) is str and not value):
                return value
            if scope.trace is not None:
                scope.trace.steps.append(label)
            return fn(value, **fixed)

    else:

        def run(doc: Any, scope: Scope) -> Any:
            value = inner(doc, scope)
            if value is None or (type(value) is str and not value):
                return value
            kwargs = dict(fixed) if fixed else {}
            for name, arg_node in varying:
                arg = arg_node.fn(doc, scope)
                if arg is None or (type(arg) is str and not arg):
                    source = ", ".join(arg_node.sources)
                    raise TransformError(f"{label}: argument {name} has no value ({source})")
                kwargs[name] = arg
            if scope.trace is not None:
                scope.trace.steps.append(label)
            return fn(value, **kwargs)

    sources = (*node.sources, *(s for _, arg_node in varying for s in arg_node.sources))
    return Node(run, sources, (*node.steps, label))


def _label(step: Step, fixed: dict[str, Any], varying: list[tuple[str, Node]]) -> str:
    parts = []
    for name, value in fixed.items():
        arg = step.args[name]
        if isinstance(arg, TableArg):
            parts.append(f"{name}={arg.name or 'inline'}")
        else:
            parts.append(f"{name}={value!r}" if not isinstance(value, str) else f"{name}={value}")
    parts += [f"{name}=<{', '.join(arg_node.sources)}>" for name, arg_node in varying]
    return f"{step.name}({', '.join(parts)})" if parts else step.name


def _sources(items: list[Node]) -> tuple[str, ...]:
    return tuple(source for item in items for source in item.sources)


def _steps(items: list[Node]) -> tuple[str, ...]:
    return tuple(step for item in items for step in item.steps)
