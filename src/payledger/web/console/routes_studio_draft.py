"""The studio's draft: a template's YAML text, edited one target field at a time.

An edit replaces (or appends, or removes) one field's block under ``fields:`` and leaves every
other line as written, so comments survive and the diff between versions shows only what the
person changed. Every edit is checked before it is applied (:func:`edit_problems`): a target
the entity does not have, an unknown transform or wrong parameters, invalid JSONata, a value
that cannot fit the target's type, a dropped key or mandatory field. A refused edit leaves the
draft as it was and is shown again with the reason beside it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from payledger.mapping import EntitySchema, Issue, SchemaCatalog, TemplateError, validate_template
from payledger.mapping.paths import resolve
from payledger.mapping.template import Template
from payledger.mapping.transforms import REGISTRY
from payledger.mapping.yaml_loader import load_yaml
from payledger.stores.template_versions_model import InvalidTemplateVersion, parse_version

Mode = Literal["path", "transform", "jsonata"]
MODES: tuple[Mode, ...] = ("path", "transform", "jsonata")
_FIELD_LINE = re.compile(r"^  (?P<key>[^\s#][^:]*?|\"[^\"]*\"|'[^']*'):(?:\s|$)")


@dataclass(frozen=True)
class FieldEdit:
    """What the person asked for one target field."""

    target: str
    mode: Mode = "path"
    path: str = ""
    transform: str = ""
    params: str = ""
    """The transform's parameters as YAML: ``side: credit``, or one value for a single one."""
    expression: str = ""
    optional: bool = False


class EditRefused(ValueError):
    """An edit that cannot be applied: ``field`` and ``reason`` say why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field {field}: {reason}")
        self.field, self.reason = field, reason


def _text(value: str, what: str, target: str) -> str:
    if not value.strip():
        raise EditRefused(target, f"give the {what}")
    return value.strip()


def _params(edit: FieldEdit) -> Any:
    transform = REGISTRY.get(edit.transform.strip())
    if transform is None:
        known = ", ".join(sorted(REGISTRY))
        raise EditRefused(edit.target, f"unknown transform {edit.transform!r} (known: {known})")
    if not edit.params.strip():
        return None
    try:
        given = load_yaml(edit.params)
    except yaml.YAMLError as exc:
        raise EditRefused(
            edit.target, f"parameters of {transform.name} are not YAML: {exc}"
        ) from None
    if isinstance(given, dict):
        unknown = sorted(str(name) for name in given if transform.param(str(name)) is None)
        if unknown:
            takes = ", ".join(p.name for p in transform.params) or "no parameters"
            raise EditRefused(
                edit.target,
                f"transform {transform.name} has no parameter {', '.join(unknown)} "
                f"(it takes {takes})",
            )
    return given


def field_value(edit: FieldEdit) -> dict[str, Any]:
    """The YAML value of ``edit`` (``{path: ...}``, ``{jsonata: ...}``, with a transform).

    Raises:
        EditRefused: a part the mode needs is missing, or the transform is unknown or given
            parameters it does not take.
    """
    if edit.mode == "jsonata":
        value: dict[str, Any] = {
            "jsonata": _text(edit.expression, "JSONata expression", edit.target)
        }
    elif edit.mode in ("path", "transform"):
        value = {"path": _text(edit.path, "source path", edit.target)}
        if edit.mode == "transform":
            _text(edit.transform, "transform", edit.target)
            params = _params(edit)
            name = edit.transform.strip()
            value["transform"] = name if params is None else {name: params}
    else:
        raise EditRefused(edit.target, f"unknown kind of mapping {edit.mode!r}")
    if edit.optional:
        value["optional"] = True
    return value


def _flow(value: Any) -> str:
    return str(yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False))


def render_field(key: str, value: Mapping[str, Any]) -> str:
    """One field as a line of the ``fields:`` section."""
    return f"  {_flow(key).strip().removesuffix('...').strip()}: {_flow(dict(value)).strip()}"


def _fields_section(lines: list[str]) -> tuple[int, int]:
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "fields:"), None)
    if start is None:
        raise EditRefused("fields", "the draft has no 'fields:' section")
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].strip() and not lines[i].startswith((" ", "#"))
        ),
        len(lines),
    )
    return start, end


def _key_of(line: str) -> str | None:
    found = _FIELD_LINE.match(line)
    return found.group("key").strip("\"'") if found else None


def set_field(body: str, key: str, value: Mapping[str, Any] | None) -> str:
    """``body`` with field ``key`` replaced by ``value`` (appended if new; removed if None)."""
    lines = body.splitlines()
    start, end = _fields_section(lines)
    first = next((i for i in range(start + 1, end) if _key_of(lines[i]) == key), None)
    new = [] if value is None else [render_field(key, value)]
    if first is None:
        last = max((i for i in range(start, end) if lines[i].strip()), default=start)
        lines[last + 1 : last + 1] = new
    else:
        after = next(
            (
                i
                for i in range(first + 1, end)
                if lines[i].strip() and not lines[i].startswith("   ")
            ),
            end,
        )
        while after > first + 1 and not lines[after - 1].strip():
            after -= 1  # keep the blank lines between fields
        lines[first:after] = new
    return "\n".join(lines) + "\n"


def written_key(template: Template, target: str, settings: Mapping[str, Any]) -> str:
    """How ``template`` names the field that fills ``target`` (``${settings...}`` kept)."""
    for spec in template.fields:
        if (resolve(spec.target, settings) or spec.target) == target:
            return spec.target
    return target


def draft_template(name: str, body: str) -> Template:
    """The draft parsed, or :class:`InvalidTemplateVersion` naming the field and reason."""
    return parse_version(name, body, f"{name} (draft)")


def lint(name: str, body: str, catalog: SchemaCatalog, settings: Mapping[str, Any]) -> list[Issue]:
    """What ``mapping check`` finds in the draft: syntax first, then the target schema."""
    try:
        template = draft_template(name, body)
    except InvalidTemplateVersion as exc:
        return exc.issues
    try:
        return validate_template(template, catalog, settings)
    except TemplateError as exc:
        return [exc.issue]


def edit_problems(
    entity: EntitySchema | None, old: list[Issue], new: list[Issue], target: str
) -> list[str]:
    """Why an edit of ``target`` must be refused: a target the entity lacks, or issues the
    edit brings that the draft did not have (about this field or the whole template)."""
    if entity is not None and target not in entity.properties:
        return [f"{entity.name} has no property {target} in $metadata"]
    before = {(issue.field, issue.reason) for issue in old}
    return [
        issue.reason if issue.field in (target, "") else f"field {issue.field}: {issue.reason}"
        for issue in new
        if (issue.field, issue.reason) not in before
    ]


def fields_yaml(body: str) -> dict[str, str]:
    """Each field of the draft as one line of YAML, by the name the draft writes it under."""
    try:
        data = load_yaml(body)
    except yaml.YAMLError:
        return {}
    fields = data.get("fields") if isinstance(data, dict) else None
    if not isinstance(fields, dict):
        return {}
    return {
        str(key): _flow(value).strip().removesuffix("...").strip() for key, value in fields.items()
    }


def apply_edit(
    name: str,
    body: str,
    edit: FieldEdit,
    catalog: SchemaCatalog,
    settings: Mapping[str, Any],
    *,
    drop: bool = False,
) -> tuple[str, list[str]]:
    """The draft with ``edit`` applied (``drop``: the field removed), or the draft unchanged
    and the reasons the edit is refused."""
    if not edit.target:
        return body, ["choose the target field to map"]
    try:
        current = draft_template(name, body)
    except InvalidTemplateVersion as exc:
        return body, [f"the draft itself is not a template: {exc}"]
    key = written_key(current, edit.target, settings)
    try:
        changed = set_field(body, key, None if drop else field_value(edit))
    except EditRefused as exc:
        return body, [exc.reason]
    entity = catalog.entity(current.target.system, _entity_name(current, settings))
    before, after = lint(name, body, catalog, settings), lint(name, changed, catalog, settings)
    problems = edit_problems(entity, before, after, edit.target)
    return (body, problems) if problems else (changed, [])


def _entity_name(template: Template, settings: Mapping[str, Any]) -> str:
    return resolve(template.target.entity, settings) or template.target.entity
