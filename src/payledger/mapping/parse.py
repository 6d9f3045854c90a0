"""Read a YAML template into :class:`~payledger.mapping.template.Template`.

Everything structural is checked here, before any record runs: unknown keys, unknown
transforms and arguments, missing lookup tables, format placeholders and JSONata syntax.
Each error names the template and the field.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonata
import yaml

from payledger.mapping.errors import TemplateError
from payledger.mapping.template import (
    AllOf,
    AnyOf,
    Condition,
    ConstSource,
    FieldSpec,
    FirstOfSource,
    FormatSource,
    IfSource,
    JsonataSource,
    ListSource,
    Not,
    PathSource,
    Predicate,
    Source,
    Step,
    TableArg,
    Target,
    Template,
    Value,
)
from payledger.mapping.transforms import REGISTRY
from payledger.mapping.transforms.text import table_key
from payledger.mapping.yaml_loader import load_yaml

TEMPLATE_KEYS = {"template", "description", "target", "needs", "tables", "fields"}
TARGET_KEYS = {"system", "entity", "operation", "server_assigned"}
SYSTEMS = ("d365", "paytrace")
SOURCE_KEYS = ("path", "const", "jsonata", "if", "first_of", "list", "format")
COMPANION_KEYS = {"if": {"then", "else"}, "format": {"values"}}
FIELD_KEYS = {"default", "optional", "max_length", "on_overflow", "note"}
PREDICATES = ("equals", "not_equals", "in", "not_in", "present")
COMBINATORS = ("all", "any", "not")


@lru_cache(maxsize=512)
def parse_jsonata(expression: str) -> jsonata.Jsonata:
    """A compiled JSONata expression (cached: each expression is parsed once)."""
    return jsonata.Jsonata(expression)


class _Parser:
    def __init__(self, name: str, tables: Mapping[str, Mapping[str, Any]]) -> None:
        self.name, self.tables, self.where = name, tables, ""

    def fail(self, reason: str) -> TemplateError:
        return TemplateError(self.name, self.where, reason)

    def mapping(self, node: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(node, Mapping):
            raise self.fail(f"{what} must be a mapping, got {type(node).__name__}")
        return node

    def only(self, node: Mapping[str, Any], allowed: set[str], what: str) -> None:
        unknown = sorted(str(key) for key in node if key not in allowed)
        if unknown:
            raise self.fail(
                f"unknown key {', '.join(map(repr, unknown))} in {what} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )

    def value(self, node: Any) -> Value:
        if not isinstance(node, Mapping):
            return Value(ConstSource(node))
        sources = [key for key in SOURCE_KEYS if key in node]
        if len(sources) != 1:
            found = ", ".join(sources) or "none"
            raise self.fail(
                f"a value needs exactly one of {', '.join(SOURCE_KEYS)} (found {found})"
            )
        kind = sources[0]
        self.only(node, {kind, "transform", *COMPANION_KEYS.get(kind, ())}, "a value")
        return Value(self.source(kind, node), self.steps(node.get("transform")))

    def source(self, kind: str, node: Mapping[str, Any]) -> Source:
        body = node[kind]
        if kind == "path":
            if not isinstance(body, str) or not body.strip():
                raise self.fail(f"path must be dotted text, got {body!r}")
            return PathSource(body.strip())
        if kind == "const":
            return ConstSource(body)
        if kind == "jsonata":
            return JsonataSource(self.jsonata(body))
        if kind == "if":
            if "then" not in node:
                raise self.fail("an if needs a then")
            otherwise = self.value(node["else"]) if "else" in node else None
            return IfSource(self.condition(body), self.value(node["then"]), otherwise)
        if kind in ("first_of", "list"):
            if not isinstance(body, list) or not body:
                raise self.fail(f"{kind} needs a non-empty list of values")
            items = tuple(self.value(item) for item in body)
            return FirstOfSource(items) if kind == "first_of" else ListSource(items)
        return self.format(body, node.get("values", {}))

    def jsonata(self, expression: Any) -> str:
        if not isinstance(expression, str):
            raise self.fail(f"jsonata must be an expression text, got {expression!r}")
        try:
            parse_jsonata(expression)
        except Exception as exc:
            raise self.fail(f"JSONata expression {expression!r} does not parse: {exc}") from None
        return expression

    def format(self, pattern: Any, values: Any) -> FormatSource:
        if not isinstance(pattern, str):
            raise self.fail(f"format must be text, got {pattern!r}")
        values = self.mapping(values, "format values")
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name}
        except ValueError as exc:
            raise self.fail(f"format {pattern!r} is not valid: {exc}") from None
        if not all(name.isidentifier() for name in names):
            raise self.fail(f"format {pattern!r}: placeholders must be plain names")
        if names != set(values):
            raise self.fail(
                f"format {pattern!r} uses {sorted(names)} but values name {sorted(values)}"
            )
        return FormatSource(pattern, {name: self.value(node) for name, node in values.items()})

    def condition(self, node: Any) -> Condition:
        node = self.mapping(node, "a condition")
        combinators = [key for key in COMBINATORS if key in node]
        if combinators:
            self.only(node, {combinators[0]}, "a combined condition")
            body = node[combinators[0]]
            if combinators[0] == "not":
                return Not(self.condition(body))
            if not isinstance(body, list) or not body:
                raise self.fail(f"{combinators[0]} needs a non-empty list of conditions")
            items = tuple(self.condition(item) for item in body)
            return AllOf(items) if combinators[0] == "all" else AnyOf(items)
        ops = [key for key in PREDICATES if key in node]
        if len(ops) > 1:
            raise self.fail(f"a condition takes one of {', '.join(PREDICATES)}, got {ops}")
        value = self.value({k: v for k, v in node.items() if k not in PREDICATES})
        if not ops:
            return Predicate(value, "truthy")
        operand = node[ops[0]]
        if ops[0] in ("in", "not_in") and not isinstance(operand, list):
            raise self.fail(f"{ops[0]} needs a list, got {operand!r}")
        if ops[0] == "present" and not isinstance(operand, bool):
            raise self.fail(f"present needs true or false, got {operand!r}")
        return Predicate(value, ops[0], operand)

    def steps(self, node: Any) -> tuple[Step, ...]:
        if node is None:
            return ()
        items = node if isinstance(node, list) else [node]
        return tuple(self.step(item, position) for position, item in enumerate(items, 1))

    def step(self, node: Any, position: int) -> Step:
        args: Any
        if isinstance(node, str):
            name, args = node, {}
        elif isinstance(node, Mapping) and len(node) == 1:
            ((name, args),) = node.items()
        else:
            raise self.fail(f"transform {position} must be a name or {{name: arguments}}")
        definition = REGISTRY.get(name)
        if definition is None:
            raise self.fail(f"unknown transform {name!r} (known: {', '.join(sorted(REGISTRY))})")
        required = [param.name for param in definition.params if param.required]
        if not isinstance(args, Mapping):
            if len(required) != 1:
                raise self.fail(f"transform {name!r} takes named arguments, got {args!r}")
            args = {required[0]: args}
        parsed: dict[str, Value | TableArg] = {}
        for arg, arg_node in args.items():
            param = definition.param(arg)
            if param is None:
                known = ", ".join(param.name for param in definition.params) or "none"
                raise self.fail(f"transform {name!r} has no argument {arg!r} (arguments: {known})")
            parsed[arg] = self.table(arg_node) if param.is_table else self.value(arg_node)
        missing = [param for param in required if param not in parsed]
        if missing:
            raise self.fail(f"transform {name!r} needs argument(s) {', '.join(missing)}")
        return Step(name, parsed)

    def table(self, node: Any) -> TableArg:
        if isinstance(node, str):
            if node not in self.tables:
                raise self.fail(f"no table named {node!r} in this template's tables")
            return TableArg(node, self.tables[node])
        return TableArg(None, normalise_table(self.mapping(node, "an inline table")))

    def field(self, target: str, node: Any) -> FieldSpec:
        self.where = target
        if not isinstance(node, Mapping):
            return FieldSpec(target, Value(ConstSource(node)))
        value = self.value({k: v for k, v in node.items() if k not in FIELD_KEYS})
        optional, max_length = node.get("optional", False), node.get("max_length")
        overflow = node.get("on_overflow", "fail")
        if not isinstance(optional, bool):
            raise self.fail(f"optional must be true or false, got {optional!r}")
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise self.fail(f"max_length must be a positive whole number, got {max_length!r}")
        if overflow not in ("fail", "truncate"):
            raise self.fail(f"on_overflow must be fail or truncate, got {overflow!r}")
        default = self.value(node["default"]) if "default" in node else None
        note = str(node.get("note", ""))
        return FieldSpec(target, value, default, optional, max_length, overflow, note)


def normalise_table(table: Mapping[Any, Any]) -> dict[str, Any]:
    """Table keys as the ``lookup`` transform compares them (text)."""
    return {table_key(key): value for key, value in table.items()}


def _target(parser: _Parser, node: Any) -> Target:
    node = parser.mapping(node, "target")
    parser.only(node, TARGET_KEYS, "target")
    system, entity = node.get("system"), node.get("entity")
    if system not in SYSTEMS:
        raise parser.fail(f"target system must be one of {', '.join(SYSTEMS)}, got {system!r}")
    if not isinstance(entity, str) or not entity:
        raise parser.fail("target entity must be named")
    operation = node.get("operation", "create")
    if operation not in ("create", "update"):
        raise parser.fail(f"target operation must be create or update, got {operation!r}")
    assigned = node.get("server_assigned", [])
    if not isinstance(assigned, list) or not all(isinstance(key, str) for key in assigned):
        raise parser.fail("server_assigned must be a list of property names")
    return Target(system, entity, operation, tuple(assigned))


def _tables(parser: _Parser, node: Any) -> dict[str, dict[str, Any]]:
    tables = parser.mapping(node or {}, "tables")
    return {str(name): normalise_table(parser.mapping(t, "a table")) for name, t in tables.items()}


def parse_template(data: Any, *, source: str = "<template>") -> Template:
    """Build a :class:`Template` from parsed YAML data; ``source`` names it until it is read."""
    parser = _Parser(source, {})
    data = parser.mapping(data, "a template")
    name = data.get("template")
    if not isinstance(name, str) or not name:
        raise parser.fail("the template needs a name (template: ...)")
    parser.name = name
    parser.only(data, TEMPLATE_KEYS, "the template")
    target, parser.tables = _target(parser, data.get("target")), _tables(parser, data.get("tables"))
    needs = data.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(need, str) for need in needs):
        raise parser.fail("needs must be a list of lookup names")
    fields = parser.mapping(data.get("fields"), "fields")
    if not fields:
        raise parser.fail("the template maps no fields")
    specs = tuple(parser.field(str(target_name), node) for target_name, node in fields.items())
    description = str(data.get("description", "")).strip()
    return Template(name, target, specs, description, tuple(needs), parser.tables)


def load_template(text: str, *, source: str = "<template>") -> Template:
    """Parse a YAML template text."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise TemplateError(source, "", f"not valid YAML: {exc}") from None
    return parse_template(data, source=source)


def load_template_file(path: str | Path) -> Template:
    """Parse a YAML template file."""
    path = Path(path)
    return load_template(path.read_text(encoding="utf-8"), source=path.name)
