"""``payledger mapping``: validate the templates in force and preview one on a sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli import mapping_versions
from payledger.cli.common import console, errors, opened, run, settings_from
from payledger.cli.mapping_suggest import suggest_command
from payledger.config import Settings
from payledger.doctor.validate import template_issues
from payledger.domain.errors import ConfigError, PayLedgerError
from payledger.mapping import (
    FieldLineage,
    Issue,
    Preview,
    Template,
    TemplateError,
    compile_template,
    dumps,
    load_template_file,
    loads,
    preview,
)
from payledger.mapping.samples import sample_document, sample_problems
from payledger.templates import template_settings

T = TypeVar("T")
app = typer.Typer(
    help="Check, preview and version templates; suggest sources for unmapped fields.",
    no_args_is_help=True,
)
app.command("suggest")(suggest_command)
app.command("versions")(mapping_versions.versions_command)
app.command("diff")(mapping_versions.diff_command)
app.command("activate")(mapping_versions.activate_command)
app.command("rollback")(mapping_versions.rollback_command)
app.command("export")(mapping_versions.export_command)
app.command("import")(mapping_versions.import_command)


@app.command("check")
def check(
    ctx: typer.Context,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Do not read D365 $metadata: check structure, sources, transforms, settings "
            "and the PayTrace targets only.",
        ),
    ] = False,
) -> None:
    """Validate every template in force; one line per issue, exit 1 if there is any."""
    settings = settings_from(ctx)
    offline = offline or not settings.d365.enabled

    async def go() -> tuple[list[Issue], int]:
        async with opened(settings, prepare=not offline) as container:
            try:
                return await template_issues(container, offline=offline), _count(container)
            except PayLedgerError as exc:
                errors.print(f"[red]error:[/red] {escape(str(exc))}")
                errors.print("(`payledger mapping check --offline` checks without D365)")
                raise typer.Exit(2) from None

    issues, count = run(go())
    if issues:
        table = Table("template", "field", "reason", title="mapping issues", title_justify="left")
        for issue in issues:
            table.add_row(escape(issue.template), escape(issue.field), escape(issue.reason))
        console.print(table)
        errors.print(f"[red]{len(issues)} issue(s)[/red]; nothing may run until they are fixed")
        raise typer.Exit(1)
    against = (
        "structure, sources, settings and PayTrace targets (offline: D365 not read)"
        if offline
        else f"D365 $metadata at {settings.d365.base_url} and the PayTrace setup"
    )
    if not settings.d365.enabled:
        against += "; [d365] is not enabled"
    console.print(f"[green]✓ {count} templates valid[/green] against {escape(against)}")


def _count(container: Container) -> int:
    try:
        return len(container.templates())
    except ConfigError:  # reported as an issue already
        return 0


@app.command("preview")
def preview_command(
    ctx: typer.Context,
    template: Annotated[str, typer.Argument(help="A template in force, or a YAML file.")],
    sample: Annotated[Path, typer.Argument(help="A source document as JSON (docs/mapping.md).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the preview as one JSON document.")
    ] = False,
) -> None:
    """Map a sample with a template (the version in force, or a YAML file): the payload and
    where every field came from."""
    settings = settings_from(ctx)
    chosen = _template(template, settings)
    document = _read_sample(sample)
    problems, unknown = sample_problems(document)
    for path in unknown:
        errors.print(f"[yellow]warning:[/yellow] sample field {path} is not read by templates")
    try:
        compiled = compile_template(chosen, template_settings(settings))
    except TemplateError as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    result = preview(compiled, document)
    if as_json:
        console.out(dumps(result.as_dict(), indent=2), highlight=False)
    else:
        _show(result)
    for problem in problems:
        errors.print(f"[red]error:[/red] {escape(problem)}")
    for line in result.errors:
        reason = f"template {result.template}, field {line.field}: {line.error}"
        errors.print(f"[red]error:[/red] {escape(reason)}")
    if problems or result.errors:
        raise typer.Exit(1)


def _template(name: str, settings: Settings) -> Template:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return _or_exit(lambda: load_template_file(path))
    templates = _or_exit(lambda: run(_in_force(settings)))
    if name not in templates:
        known = ", ".join(sorted(templates))
        raise typer.BadParameter(f"no template {name!r} (in force: {known})", param_hint="TEMPLATE")
    return templates[name]


async def _in_force(settings: Settings) -> dict[str, Template]:
    """The templates in force: each one's active saved version, else its seed file."""
    async with opened(settings) as container:
        templates: dict[str, Template] = container.templates()
    return templates


def _or_exit(load: Callable[[], T]) -> T:
    try:
        return load()
    except TemplateError as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


def _read_sample(path: Path) -> dict[str, Any]:
    try:
        data = loads(path.read_bytes())
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint="SAMPLE"
        ) from None
    except ValueError as exc:
        errors.print(f"[red]error:[/red] {path} is not valid JSON: {escape(str(exc))}")
        raise typer.Exit(1) from None
    data = sample_document(data)
    if not isinstance(data, dict):
        errors.print(f"[red]error:[/red] {path} must hold a JSON object (the source document)")
        raise typer.Exit(1)
    return data


def _show(result: Preview) -> None:
    console.print(
        f"[bold]{escape(result.template)}[/bold] → {result.system} {escape(result.entity)}"
    )
    partial = f" (partial: {len(result.errors)} field(s) failed)" if result.errors else ""
    console.print(f"[bold]payload[/bold]{partial}")
    console.out(dumps(result.payload, indent=2), highlight=False)
    table = Table("field", "status", "value", "sources", "transforms / steps", title="lineage")
    for line in result.lineage:
        table.add_row(*_lineage_row(line))
    console.print(table)
    for target, reason in result.skipped:
        console.print(f"[dim]skipped at compile time: {escape(target)} ({escape(reason)})[/dim]")


def _lineage_row(line: FieldLineage) -> tuple[str, ...]:
    colour = {"mapped": "green", "default": "cyan", "omitted": "dim", "error": "red"}[line.status]
    value = (
        line.error if line.status == "error" else ("" if line.value is None else dumps(line.value))
    )
    return (
        escape(line.field),
        f"[{colour}]{line.status}[/{colour}]",
        escape(value),
        escape(", ".join(line.sources)),
        escape(", ".join(line.steps)),
    )
