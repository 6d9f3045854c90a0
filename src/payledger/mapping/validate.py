"""Validate templates against their target schema before anything runs.

Checks, each reported as an :class:`Issue` naming the template, the field and the reason:
the target entity exists; every target field exists, is writable, and receives a value of a
compatible type (enum constants are members, constants fit the length); keys (and, when
creating, required properties) are mapped; at most six PayTrace discretionary fields; source
paths exist in the source document, enrichment rows are declared under ``needs`` and the
settings a required field reads are configured; transforms get inputs they understand.
Syntax (unknown keys, transforms, JSONata) is checked earlier, when the template is parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from payledger.mapping.document import ENRICHMENTS, FREE_NAMESPACES, known_type
from payledger.mapping.engine import compile_template, resolve_entity, target_segments
from payledger.mapping.errors import Issue, TemplateError, TemplateInvalid
from payledger.mapping.infer import paths_in, possible_values, step_inputs, value_type, values_in
from payledger.mapping.paths import lookup, resolve_path
from payledger.mapping.paytrace_targets import DISCRETIONARY, MAX_DISCRETIONARY_FIELDS
from payledger.mapping.schema import (
    EntitySchema,
    FieldType,
    PropertySchema,
    SchemaCatalog,
    accepts,
    type_of_value,
)
from payledger.mapping.template import FieldSpec, Template, Value
from payledger.mapping.transforms import REGISTRY


class _Checker:
    def __init__(
        self, template: Template, catalog: SchemaCatalog, settings: Mapping[str, Any]
    ) -> None:
        self.template, self.catalog, self.settings = template, catalog, settings
        self.issues: list[Issue] = []
        self.field = ""

    def report(self, reason: str, field: str | None = None) -> None:
        where = self.field if field is None else field
        self.issues.append(Issue(self.template.name, where, reason))

    def path_type(self, text: str) -> FieldType:
        """The type of a source path; unknown paths are reported once and typed ``any``."""
        segments = resolve_path(text, self.settings)
        if segments is None:
            return FieldType.ANY
        namespace, rest = segments[0], segments[1:]
        if namespace == "settings":
            return type_of_value(lookup(self.settings, rest))
        if namespace in FREE_NAMESPACES:
            return FieldType.ANY
        if namespace == "enrich":
            return self.enrich_type(rest)
        found = known_type(namespace, rest)
        return FieldType.ANY if found is None else found

    def enrich_type(self, rest: tuple[str, ...]) -> FieldType:
        if len(rest) < 2 or rest[0] not in ENRICHMENTS:
            return FieldType.ANY
        entity = self.catalog.entity(*ENRICHMENTS[rest[0]])
        prop = entity.properties.get(rest[1]) if entity else None
        return prop.type if prop and len(rest) == 2 else FieldType.ANY

    def check_path(self, text: str, spec: FieldSpec) -> None:
        lenient = spec.optional or spec.default is not None
        segments = resolve_path(text, self.settings)
        if segments is None:
            if not lenient:
                self.report(f"source path {text} names a setting that is not configured")
            return
        namespace, rest = segments[0], segments[1:]
        shown = ".".join(segments)
        if namespace == "settings":
            if lookup(self.settings, rest) is None and not lenient:
                self.report(f"setting {'.'.join(rest)} is not configured")
        elif namespace == "enrich":
            self.check_enrich(shown, rest)
        elif namespace not in FREE_NAMESPACES and known_type(namespace, rest) is None:
            self.report(f"unknown source path {shown} (see the source document in docs)")

    def check_enrich(self, shown: str, rest: tuple[str, ...]) -> None:
        if not rest or rest[0] not in ENRICHMENTS:
            self.report(f"{shown}: unknown lookup (known: {', '.join(ENRICHMENTS)})")
            return
        if rest[0] not in self.template.needs:
            self.report(f"{shown} reads lookup {rest[0]}, which the template's needs do not list")
        entity = self.catalog.entity(*ENRICHMENTS[rest[0]])
        if entity is not None and len(rest) > 1 and rest[1] not in entity.properties:
            self.report(f"{shown}: {entity.name} has no property {rest[1]}")

    def check_value(self, spec: FieldSpec, prop: PropertySchema | None) -> None:
        for value in (spec.value, *([spec.default] if spec.default else [])):
            self.check_transforms(value)
            if prop is not None:
                self.check_fit(value, prop, spec)

    def check_transforms(self, value: Value) -> None:
        for item in values_in(value):
            for name, produced in step_inputs(item, self.path_type):
                wanted = REGISTRY[name].accepts
                if wanted and produced is not FieldType.ANY and produced not in wanted:
                    expected = ", ".join(sorted(kind.value for kind in wanted))
                    self.report(f"transform {name} takes {expected}, but gets {produced.value}")

    def check_fit(self, value: Value, prop: PropertySchema, spec: FieldSpec) -> None:
        produced = value_type(value, self.path_type)
        if not accepts(prop.type, produced):
            self.report(f"produces {produced.value}, but the target is {prop.type.value}")
        for constant in possible_values(value) or []:
            enum = prop.type is FieldType.ENUM and prop.enum_members
            if enum and constant not in prop.enum_members:
                members = ", ".join(prop.enum_members)
                self.report(f"{constant!r} is not a member of the target enum ({members})")
            limit = spec.max_length or prop.max_length
            too_long = isinstance(constant, str) and limit and len(constant) > limit
            if too_long and spec.on_overflow == "fail":
                self.report(f"constant {constant!r} is longer than the maximum {limit}")


def _mapped(template: Template, settings: Mapping[str, Any]) -> dict[str, FieldSpec]:
    mapped = {}
    for spec in template.fields:
        try:
            segments = target_segments(template.name, spec, settings)
        except TemplateError:
            continue
        if segments is not None:
            mapped[".".join(segments)] = spec
    return mapped


def _no_property(entity: EntitySchema, name: str) -> str:
    if name.startswith(f"{DISCRETIONARY}."):
        title = name.split(".", 1)[1]
        return f"discretionary data title {title!r} is not configured in PayTrace"
    return f"{entity.name} has no property {name}"


def _check_entity(checker: _Checker, entity: EntitySchema, mapped: dict[str, FieldSpec]) -> None:
    template = checker.template
    for name, spec in mapped.items():
        checker.field = name
        prop = entity.properties.get(name)
        if prop is None:
            checker.report(_no_property(entity, name))
        elif prop.read_only:
            checker.report(f"{entity.name}.{name} is read-only (assigned by {entity.system})")
        checker.check_value(spec, prop)
        for path in {p for v in (spec.value, spec.default) if v for p in paths_in(v)}:
            checker.check_path(path, spec)
    checker.field = ""
    assigned = set(template.target.server_assigned)
    for key in entity.keys:
        if key not in mapped and key not in assigned:
            checker.report(f"key {key} is not mapped (map it or list it under server_assigned)")
        elif key in mapped and template.target.operation == "update" and mapped[key].optional:
            checker.report("a key cannot be optional in an update template", key)
    if template.target.operation == "create":
        for name in entity.required:
            required = mapped.get(name)
            if required is None and name not in assigned:
                checker.report(f"required property {name} is not mapped")
            elif required is not None and required.optional and required.default is None:
                checker.report("required property is optional in the template", name)
    titles = [name for name in entity.properties if name.startswith(f"{DISCRETIONARY}.")]
    if len(titles) > MAX_DISCRETIONARY_FIELDS:
        checker.report(
            f"PayTrace allows at most {MAX_DISCRETIONARY_FIELDS} discretionary data fields; "
            f"{len(titles)} are configured",
            DISCRETIONARY,
        )


def validate_template(
    template: Template, catalog: SchemaCatalog, settings: Mapping[str, Any] | None = None
) -> list[Issue]:
    """Every problem of ``template`` against ``catalog`` and ``settings`` (empty if none)."""
    settings = settings or {}
    checker = _Checker(template, catalog, settings)
    for need in template.needs:
        if need not in ENRICHMENTS:
            checker.report(f"needs names unknown lookup {need!r} (known: {', '.join(ENRICHMENTS)})")
    try:
        compile_template(template, settings)
        entity_name = resolve_entity(template, settings)
    except TemplateError as exc:
        return [*checker.issues, exc.issue]
    entity = catalog.entity(template.target.system, entity_name)
    if entity is None:
        checker.report(f"target {template.target.system} entity {entity_name} does not exist")
        return checker.issues
    _check_entity(checker, entity, _mapped(template, settings))
    return checker.issues


def validate_templates(
    templates: Iterable[Template],
    catalog: SchemaCatalog,
    settings: Mapping[str, Any] | None = None,
) -> list[Issue]:
    """Problems of all ``templates``, in order."""
    return [issue for t in templates for issue in validate_template(t, catalog, settings)]


def check_templates(
    templates: Iterable[Template],
    catalog: SchemaCatalog,
    settings: Mapping[str, Any] | None = None,
) -> None:
    """Raise :class:`TemplateInvalid` listing every problem, if there is any."""
    issues = validate_templates(templates, catalog, settings)
    if issues:
        raise TemplateInvalid(issues)
