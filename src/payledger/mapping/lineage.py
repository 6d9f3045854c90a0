"""Preview: the payload a template makes from a sample, and where every field came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from payledger.mapping.engine import CompiledField, CompiledTemplate, describe, missing_reason
from payledger.mapping.nodes import Scope, Trace, missing

Status = Literal["mapped", "default", "omitted", "error"]


@dataclass(frozen=True, slots=True)
class FieldLineage:
    """How one target field got its value."""

    field: str
    status: Status
    value: Any = None
    sources: tuple[str, ...] = ()
    """Source paths read (``payment.amount``, ``settings.company``, ``jsonata(...)``)."""
    steps: tuple[str, ...] = ()
    """Transforms and decisions applied, in order (``money(currency=USD)``, ``if ... → then``)."""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "status": self.status,
            "value": self.value,
            "sources": list(self.sources),
            "steps": list(self.steps),
            "error": self.error,
        }


@dataclass(frozen=True)
class Preview:
    """A template run on one sample without stopping at the first error."""

    template: str
    system: str
    entity: str
    payload: dict[str, Any]
    lineage: tuple[FieldLineage, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[FieldLineage, ...]:
        return tuple(line for line in self.lineage if line.status == "error")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals stay Decimals; serialise with ``mapping.dumps``)."""
        return {
            "template": self.template,
            "target": {"system": self.system, "entity": self.entity},
            "ok": self.ok,
            "payload": self.payload,
            "lineage": [line.as_dict() for line in self.lineage],
            "skipped": [{"field": target, "reason": reason} for target, reason in self.skipped],
        }


def _trace_field(
    template: CompiledTemplate, field: CompiledField, document: Mapping[str, Any]
) -> FieldLineage:
    trace = Trace()
    scope = Scope(document, template.json_settings, trace)
    status: Status = "mapped"
    try:
        value = field.node.fn(document, scope)
        if missing(value) and field.default is not None:
            trace.steps.append("default")
            value, status = field.default.fn(document, scope), "default"
        if missing(value):
            if field.optional:
                return FieldLineage(
                    field.name, "omitted", None, tuple(trace.sources), tuple(trace.steps)
                )
            return FieldLineage(
                field.name, "error", None, field.node.sources, (), missing_reason(field)
            )
        if field.check is not None:
            value = field.check(value)
    except Exception as exc:
        sources, steps = tuple(trace.sources), tuple(trace.steps)
        return FieldLineage(field.name, "error", None, sources, steps, describe(exc))
    return FieldLineage(field.name, status, value, tuple(trace.sources), tuple(trace.steps))


def preview(template: CompiledTemplate, document: Mapping[str, Any]) -> Preview:
    """Map ``document`` field by field, recording lineage and collecting every error."""
    payload: dict[str, Any] = {}
    lineage = []
    for field in template.fields:
        line = _trace_field(template, field, document)
        lineage.append(line)
        if line.status in ("mapped", "default"):
            field.put(payload, line.value)
    return Preview(
        template.name,
        template.system,
        template.entity,
        payload,
        tuple(lineage),
        template.skipped,
    )
