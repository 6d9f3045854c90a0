"""What the studio shows beside a draft: the target fields from ``$metadata``, the source
fields seen in stored payment events (examples masked), suggestions for unmapped targets, the
lint, and a preview of the draft on chosen events with the lineage of every field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from payledger.bootstrap import Container
from payledger.domain.card_data import redact_card_numbers
from payledger.domain.codec import payment_from_dict
from payledger.domain.errors import PayLedgerError
from payledger.mapping import (
    EntitySchema,
    FieldLineage,
    Issue,
    SchemaCatalog,
    Template,
    TemplateError,
    compile_template,
    dumps,
    preview,
)
from payledger.mapping.engine import resolve_entity
from payledger.mapping.suggest import Candidate, suggest
from payledger.mapping.suggest_fields import (
    KnownMappings,
    SourceField,
    TargetField,
    target_fields,
    unmapped,
)
from payledger.views.posted_documents import posted_document
from payledger.views.timeline import recent_payments
from payledger.web.console.access import ConsoleProblem
from payledger.web.console.routes_studio_draft import written_key

EVENTS_OFFERED = 12
"""Recent payment events a person may preview on (and whose fields are the sources)."""
EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class StoredEvent:
    inbox_id: int
    label: str
    document: dict[str, Any]


@dataclass(frozen=True)
class TargetRow:
    """A target property beside what the draft maps to it."""

    target: TargetField
    mapping: str
    """The draft's YAML for it ('' when unmapped)."""
    issues: list[str]
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRow:
    path: str
    type: str
    examples: list[str]
    seen: int
    """Percent of the events holding it."""


@dataclass(frozen=True)
class EventPreview:
    event: StoredEvent
    payload: str
    lineage: tuple[FieldLineage, ...]
    errors: list[str]


async def catalog_of(container: Container) -> SchemaCatalog:
    """The live ``$metadata`` (D365 on trust when ``[d365]`` is off); 503 page if unreadable."""
    try:
        return await container.template_catalog()
    except PayLedgerError as exc:
        raise ConsoleProblem(503, "$metadata cannot be read", str(exc)) from None


def entity_of(
    catalog: SchemaCatalog, template: Template, settings: Mapping[str, Any]
) -> EntitySchema | None:
    try:
        name = resolve_entity(template, settings)
    except TemplateError:
        return None
    return catalog.entity(template.target.system, name)


def extension_names(container: Container) -> set[str]:
    """The extension fields the deployment configured (``[d365.fields]``)."""
    return {name for name in container.settings.d365.fields.model_dump().values() if name}


async def stored_events(container: Container, limit: int = EVENTS_OFFERED) -> list[StoredEvent]:
    """Recent payment events as source documents, with what the posting flow decided."""
    found = []
    for summary in await recent_payments(container.database, limit=limit):
        event = summary.latest
        async with container.database.transaction() as conn:
            row = await container.inbox.get(conn, event.inbox_id)
        try:
            payment = payment_from_dict(row["payload"] if row else {})
        except (KeyError, TypeError, ValueError):
            continue
        document = await posted_document(container.database, event.inbox_id, payment)
        label = f"{event.kind} {event.gateway_txn_id} {event.amount} {event.currency}"
        found.append(StoredEvent(event.inbox_id, label.strip(), document))
    return found


def source_rows(sources: Sequence[SourceField]) -> list[SourceRow]:
    """Source fields with a few example values, card numbers masked."""
    return [
        SourceRow(
            source.path,
            source.type.value,
            [redact_card_numbers(str(value))[:60] for value in source.values[:EXAMPLES_SHOWN]],
            round(source.seen * 100),
        )
        for source in sorted(sources, key=lambda s: s.path)
    ]


def target_rows(
    entity: EntitySchema,
    template: Template | None,
    body_fields: Mapping[str, str],
    issues: Sequence[Issue],
    sources: Sequence[SourceField],
    known: KnownMappings,
    *,
    extensions: set[str],
    settings: Mapping[str, Any],
) -> list[TargetRow]:
    """Every writable target field, what the draft maps to it, its lint and suggestions."""
    targets = target_fields(entity, extensions)
    empty = unmapped(targets, template, settings) if template else targets
    ranked = suggest(empty, sources, known, top=3, entity=entity.name) if sources else {}
    rows = []
    for target in sorted(targets, key=lambda t: (not (t.key or t.mandatory), t.name)):
        key = written_key(template, target.name, settings) if template else target.name
        rows.append(
            TargetRow(
                target,
                body_fields.get(key, ""),
                [issue.reason for issue in issues if issue.field == target.name],
                [c for c in ranked.get(target.name, []) if c.score > 0],
            )
        )
    return rows


def previews(
    template: Template | None, events: Sequence[StoredEvent], settings: Mapping[str, Any]
) -> list[EventPreview]:
    """The draft run on each event: the exact payload and every field's lineage."""
    if template is None or not events:
        return []
    try:
        compiled = compile_template(template, settings)
    except TemplateError:
        return []  # the lint says why
    shown = []
    for event in events:
        result = preview(compiled, event.document)
        errors = [f"field {line.field}: {line.error}" for line in result.errors]
        shown.append(EventPreview(event, dumps(result.payload, indent=2), result.lineage, errors))
    return shown
