"""Compile a template once, then map many source documents fast.

A required field that ends up missing (None or ``""``) raises :class:`FieldMappingError`
unless it has a ``default`` or is ``optional: true`` (then it is left out of the payload):
a record is parked, never posted with gaps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from payledger.mapping.compile import ValueCompiler
from payledger.mapping.errors import FieldMappingError, TemplateError, TransformError
from payledger.mapping.nodes import Node, Scope, missing, settings_view
from payledger.mapping.paths import placeholders, resolve, split_path
from payledger.mapping.schema import (
    EntitySchema,
    PropertySchema,
    SchemaCatalog,
    fits,
    value_problem,
)
from payledger.mapping.template import FieldSpec, Template

Put = Callable[[dict[str, Any], Any], None]
Check = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class CompiledField:
    """One target field ready to run."""

    name: str
    node: Node
    put: Put
    default: Node | None = None
    optional: bool = False
    check: Check | None = None
    nested: bool = False


@dataclass(frozen=True)
class CompiledTemplate:
    """A template bound to its settings (and, optionally, its target schema)."""

    name: str
    system: str
    entity: str
    operation: str
    needs: tuple[str, ...]
    fields: tuple[CompiledField, ...]
    skipped: tuple[tuple[str, str], ...]
    """Optional fields left out at compile time: (target as written, reason)."""
    json_settings: Any
    _plan: tuple[Any, ...] = dataclasses.field(init=False, repr=False, compare=False, default=())
    _base: dict[str, Any] | None = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Flat payloads start as a copy of the constant fields, in template order; the other
        # fields hold a place there and are filled (or dropped) per record.
        flat = not any(field.nested for field in self.fields)
        base: dict[str, Any] = {}
        plan = []
        for field in self.fields:
            node = field.node
            if flat and node.constant and not missing(node.value):
                base[field.name] = self._fixed(field)
                continue
            if flat:
                base[field.name] = None
            default = field.default.fn if field.default is not None else None
            put = field.put if field.nested else None
            plan.append((field, field.name, node.fn, put, default, field.check))
        object.__setattr__(self, "_plan", tuple(plan))
        object.__setattr__(self, "_base", base if flat else None)

    def _fixed(self, field: CompiledField) -> Any:
        if field.check is None:
            return field.node.value
        try:
            return field.check(field.node.value)
        except TransformError as exc:
            raise TemplateError(self.name, field.name, str(exc)) from None

    def map(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The target payload for one source document.

        Raises:
            FieldMappingError: a required field has no value, a value has the wrong type, or
                a transform or expression failed; the message names the template and field.
        """
        scope = Scope(document, self.json_settings)
        base = self._base
        payload: dict[str, Any] = {} if base is None else base.copy()
        field = None
        try:
            for field, name, fn, put, default, check in self._plan:
                value = fn(document, scope)
                if value is None or (type(value) is str and not value):
                    value = None if default is None else default(document, scope)
                    if missing(value):
                        if not field.optional:
                            raise FieldMappingError(self.name, name, missing_reason(field))
                        if base is not None:
                            del payload[name]
                        continue
                if check is not None:
                    value = check(value)
                if put is None:
                    payload[name] = value
                else:
                    put(payload, value)
        except FieldMappingError:
            raise
        except Exception as exc:
            where = field.name if field is not None else ""
            raise FieldMappingError(self.name, where, describe(exc)) from exc
        return payload


def missing_reason(field: CompiledField) -> str:
    sources = ", ".join(field.node.sources) or "a constant"
    return f"required value is missing (from {sources}); the record is parked"


def describe(exc: Exception) -> str:
    if isinstance(exc, TransformError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def putter(segments: tuple[str, ...]) -> Put:
    """Write a value at a (possibly nested) target path."""
    if len(segments) == 1:
        (name,) = segments

        def put(payload: dict[str, Any], value: Any) -> None:
            payload[name] = value

        return put
    *parents, leaf = segments

    def put_nested(payload: dict[str, Any], value: Any) -> None:
        node = payload
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value

    return put_nested


def checker(prop: PropertySchema | None, max_length: int | None, overflow: str) -> Check | None:
    """The run-time type, enum and length check of one target field (None when unchecked)."""
    limit = max_length or (prop.max_length if prop else None)
    if prop is None and limit is None:
        return None
    fit = fits(prop) if prop is not None else None
    truncate = overflow == "truncate"

    def check(value: Any) -> Any:
        if fit is not None and prop is not None and not fit(value):
            raise TransformError(value_problem(prop, value) or "does not fit the target")
        if limit is not None and type(value) is str and len(value) > limit:
            if truncate:
                return value[:limit]
            raise TransformError(f"{len(value)} characters exceed the maximum length of {limit}")
        return value

    return check


def target_segments(
    template: str, spec: FieldSpec, settings: Mapping[str, Any]
) -> tuple[str, ...] | None:
    """The resolved target path of a field; None if it names a setting that is not set."""
    segments = []
    for segment in split_path(spec.target):
        resolved = resolve(segment, settings)
        if resolved is None:
            return None
        if not resolved:
            raise TemplateError(template, spec.target, "the target name has an empty part")
        segments.append(resolved)
    return tuple(segments)


def resolve_entity(template: Template, settings: Mapping[str, Any]) -> str:
    entity = resolve(template.target.entity, settings)
    if entity is None:
        names = ", ".join(placeholders(template.target.entity))
        raise TemplateError(template.name, "", f"target entity needs setting {names}")
    return entity


def _compile_field(
    template: Template,
    spec: FieldSpec,
    settings: Mapping[str, Any],
    entity: EntitySchema | None,
) -> CompiledField | str:
    segments = target_segments(template.name, spec, settings)
    if segments is None:
        names = ", ".join(placeholders(spec.target))
        reason = f"the target name needs setting {names}, which is not configured"
        if spec.optional:
            return reason
        raise TemplateError(template.name, spec.target, reason)
    name = ".".join(segments)
    compiler = ValueCompiler(template.name, name, settings)
    node = compiler.value(spec.value)
    default = compiler.value(spec.default) if spec.default is not None else None
    prop = entity.properties.get(name) if entity is not None else None
    check = checker(prop, spec.max_length, spec.on_overflow)
    return CompiledField(
        name, node, putter(segments), default, spec.optional, check, len(segments) > 1
    )


def compile_template(
    template: Template,
    settings: Mapping[str, Any] | None = None,
    catalog: SchemaCatalog | None = None,
) -> CompiledTemplate:
    """Bind a template to ``settings`` and compile every field once.

    Args:
        template: a parsed template.
        settings: the configuration the template reads as ``settings.*`` (and names in
            ``${settings...}`` placeholders); folded into constants now.
        catalog: when given, each field's value is checked at run time against its target
            property (type, enum members, maximum length).

    Raises:
        TemplateError: a required target name or transform argument needs a setting that is
            not configured, or a constant fails its transforms.
    """
    settings = dict(settings or {})
    entity_name = resolve_entity(template, settings)
    entity = catalog.entity(template.target.system, entity_name) if catalog else None
    fields: list[CompiledField] = []
    skipped = []
    for spec in template.fields:
        compiled = _compile_field(template, spec, settings, entity)
        if isinstance(compiled, str):
            skipped.append((spec.target, compiled))
        elif any(field.name == compiled.name for field in fields):
            raise TemplateError(template.name, spec.target, f"maps {compiled.name} twice")
        else:
            fields.append(compiled)
    return CompiledTemplate(
        name=template.name,
        system=template.target.system,
        entity=entity_name,
        operation=template.target.operation,
        needs=template.needs,
        fields=tuple(fields),
        skipped=tuple(skipped),
        json_settings=settings_view(settings),
    )
