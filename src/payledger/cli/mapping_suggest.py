"""``payledger mapping suggest``: ranked source candidates for a template's unmapped fields."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from payledger.cli.common import console, errors, opened, run, settings_from
from payledger.config import Settings
from payledger.domain.errors import PayLedgerError
from payledger.mapping import (
    EntitySchema,
    Template,
    TemplateError,
    load_template_file,
    paytrace_entities,
)
from payledger.mapping.suggest import Candidate, suggest
from payledger.mapping.suggest_fields import (
    KnownMappings,
    TargetField,
    documents_from_jsonl,
    source_fields,
    target_fields,
    unmapped,
)
from payledger.templates import load_templates, template_settings

PAYTRACE = "paytrace:"


class Format(StrEnum):
    JSON = "json"
    TABLE = "table"


def suggest_command(
    ctx: typer.Context,
    entity: Annotated[
        str,
        typer.Option(
            "--entity",
            help="A D365 entity set (CustomersV3), or paytrace:transaction_request / "
            "paytrace:customer_profile.",
        ),
    ],
    samples: Annotated[
        Path, typer.Option("--samples", help="Source documents, one JSON object a line.")
    ],
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="A template in force or a YAML file: suggest for the fields it does not map "
            "(default: every field of the entity).",
        ),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            "--metadata", help="D365 $metadata (CSDL XML) to read instead of the configured D365."
        ),
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="json or table.")] = Format.TABLE,
    top: Annotated[int, typer.Option("--top", help="Candidates per field.", min=1)] = 3,
) -> None:
    """For each target field without a mapping, the best source candidates with a score and a
    reason (names and synonyms, types and lengths, value profiles, other templates' mappings)."""
    settings = settings_from(ctx)
    documents = _documents(samples)
    schema = _entity(entity, metadata, settings)
    in_force = _templates(settings)
    chosen = _template(template, in_force) if template else None
    values = template_settings(settings)
    extensions = [name for name in settings.d365.fields.model_dump().values() if name]
    targets = target_fields(schema, extensions if schema.system == "d365" else ())
    if chosen is not None:
        targets = unmapped(targets, chosen, values)
    others = [t for name, t in in_force.items() if chosen is None or name != chosen.name]
    known = KnownMappings.from_templates(others, values)
    found = suggest(targets, source_fields(documents), known, top, entity=schema.name)
    if output is Format.JSON:
        console.out(json.dumps(_as_json(found)), highlight=False)
    else:
        _show(targets, found)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(2)


def _documents(path: Path) -> list[dict[str, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read --samples {path}: {getattr(exc, 'strerror', None) or exc}")
    try:
        return documents_from_jsonl(text, str(path))
    except ValueError as exc:
        _fail(str(exc))


def _entity(name: str, metadata: Path | None, settings: Settings) -> EntitySchema:
    if name.startswith(PAYTRACE):
        entities = {e.name: e for e in paytrace_entities(settings.paytrace.discretionary_titles)}
        return _pick(entities, name.removeprefix(PAYTRACE), PAYTRACE)
    if metadata is not None:
        return _pick(_metadata_file(metadata, settings), name, "")
    if not settings.d365.enabled:
        _fail("[d365] is not enabled: pass --metadata FILE.xml (D365 $metadata) for " + name)

    async def live() -> dict[str, EntitySchema]:
        async with opened(settings, prepare=False) as container:
            try:
                catalog = await container.schema_catalog()
            except PayLedgerError as exc:
                _fail(f"cannot read D365 $metadata: {exc} (or pass --metadata FILE.xml)")
        return {e.name: e for e in catalog.entities if e.system == "d365"}

    return _pick(run(live()), name, "")


def _metadata_file(path: Path, settings: Settings) -> dict[str, EntitySchema]:
    from payledger.adapters.d365.catalog import entities_from_metadata
    from payledger.adapters.d365.metadata import parse_metadata

    try:
        parsed = parse_metadata(path.read_bytes())
    except OSError as exc:
        _fail(f"cannot read --metadata {path}: {exc.strerror}")
    except SyntaxError as exc:  # ElementTree.ParseError
        _fail(f"--metadata {path} is not CSDL XML: {exc}")
    entities = entities_from_metadata(parsed, settings.d365.string_lengths)
    return {e.name: e for e in entities}


def _pick(entities: dict[str, EntitySchema], name: str, prefix: str) -> EntitySchema:
    if name in entities:
        return entities[name]
    known = ", ".join(prefix + n for n in sorted(entities)[:12])
    more = ", ..." if len(entities) > 12 else ""
    _fail(f"unknown entity {prefix + name!r} (known: {known}{more})")


def _templates(settings: Settings) -> dict[str, Template]:
    try:
        return load_templates(settings)
    except (TemplateError, PayLedgerError) as exc:
        _fail(f"the templates in force cannot be read: {exc}")


def _template(name: str, in_force: dict[str, Template]) -> Template:
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        try:
            return load_template_file(path)
        except TemplateError as exc:
            _fail(str(exc))
    if name not in in_force:
        _fail(f"no template {name!r} (in force: {', '.join(sorted(in_force))})")
    return in_force[name]


def _as_json(found: dict[str, list[Candidate]]) -> list[dict[str, object]]:
    return [
        {
            "target": target,
            "candidates": [
                {"source": c.source, "score": c.score, "reason": c.reason} for c in candidates
            ],
        }
        for target, candidates in found.items()
    ]


def _show(targets: list[TargetField], found: dict[str, list[Candidate]]) -> None:
    table = Table("target", "type", "source", "score", "reason", title="mapping suggestions")
    for target in targets:
        marks = "".join(
            mark
            for mark, on in ((" key", target.key), (" mandatory", target.mandatory),
                             (" extension", target.extension))
            if on
        )  # fmt: skip
        kind = f"{target.type.value}{f'({target.max_length})' if target.max_length else ''}"
        for rank, candidate in enumerate(found[target.name]):
            table.add_row(
                escape(target.name) if rank == 0 else "",
                f"{kind}{marks}" if rank == 0 else "",
                escape(candidate.source),
                f"{candidate.score:.2f}",
                escape(candidate.reason),
            )
    console.print(table)
