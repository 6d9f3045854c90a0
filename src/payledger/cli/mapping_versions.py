"""``payledger mapping versions|diff|activate|rollback|export|import``: template versions
for operators without the console, and for teams that keep templates in Git."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import cli_actor, console, errors, settings_from, with_container
from payledger.domain.errors import DomainError
from payledger.mapping import TemplateError, load_template
from payledger.mapping.yaml_loader import load_yaml
from payledger.stores.template_versions import SEED, TemplateVersion, UnknownTemplateVersion

HEADER = "# payledger: "
"""Export's header lines start so; import drops them and reads the version they name."""
_EXPORTED = re.compile(r"^# payledger: (?P<name>\S+)@(?P<version>\d+|default)\b")

Actor = Annotated[str | None, typer.Option(help="Who does it (audit log; default cli:<user>).")]
Comment = Annotated[str, typer.Option(help="Why (kept with the version or activation).")]


def _version(text: str) -> int:
    if text == "default":
        return SEED
    if not text.isdigit():
        raise typer.BadParameter(f"{text!r} is not a version number or 'default'")
    return int(text)


def versions_command(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="A template name.")]
) -> None:
    """List the saved versions of a template, newest first; the active one is marked."""

    async def go(container: Container) -> tuple[list[TemplateVersion], int]:
        store = container.template_versions()
        listed = [*await store.versions(name), store.seed(name)]
        return listed, await store.active_version(name)

    listed, active = with_container(settings_from(ctx), go)
    table = Table("", "version", "saved", "by", "based on", "comment", title=name)
    for v in listed:
        saved = v.created_at.isoformat(timespec="seconds") if v.created_at else "-"
        based = "" if v.version == SEED else str(v.based_on or "default")
        number = str(v.version or "default")
        mark = "[green]active[/green]" if v.version == active else ""
        table.add_row(mark, number, saved, escape(v.author), based, escape(v.comment))
    console.print(table)


def diff_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A template name.")],
    old: Annotated[str, typer.Argument(help="A version number, or 'default' (the seed).")],
    new: Annotated[str, typer.Argument(help="A version number, or 'default'.")],
) -> None:
    """Show what changed between two versions of a template (a unified diff of the YAML)."""

    async def go(container: Container) -> str:
        return await container.template_versions().diff(name, _version(old), _version(new))

    console.out(with_container(settings_from(ctx), go), end="", highlight=False)


def activate_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A template name.")],
    version: Annotated[str, typer.Argument(help="A version number, or 'default' (the seed).")],
    comment: Comment = "",
    actor: Actor = None,
) -> None:
    """Validate a version and put it in force for new work in every process (no restart)."""
    number = _version(version)

    async def go(container: Container) -> None:
        await container.template_versions().activate(
            name,
            number,
            actor=actor or cli_actor(),
            catalog=await container.template_catalog(),
            settings=container.template_settings(),
            comment=comment,
        )

    with_container(settings_from(ctx), go)
    console.print(f"[green]✓[/green] {escape(name)} version {version} is active")


def rollback_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A template name.")],
    comment: Comment = "",
    actor: Actor = None,
) -> None:
    """Undo the last activation of a template: the version in force before it returns."""

    async def go(container: Container) -> int:
        done = await container.template_versions().rollback(
            name,
            actor=actor or cli_actor(),
            catalog=await container.template_catalog(),
            settings=container.template_settings(),
            comment=comment,
        )
        return done.version

    back = with_container(settings_from(ctx), go)
    console.print(f"[green]✓[/green] {escape(name)} rolled back to version {back or 'default'}")


def export_command(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Option("--dir", help="Where to write one <template>.yaml per template.")
    ] = Path("templates"),
) -> None:
    """Write the version in force of every template as YAML, with a header naming it."""

    async def go(container: Container) -> list[TemplateVersion]:
        store = container.template_versions()
        active = await store.active()
        return [active.get(name) or store.seed(name) for name in sorted(container.templates())]

    exported = with_container(settings_from(ctx), go)
    folder.mkdir(parents=True, exist_ok=True)
    for v in exported:
        (folder / f"{v.template}.yaml").write_text(_header(v) + v.body, encoding="utf-8")
    console.print(f"wrote {len(exported)} template(s) to {escape(str(folder))}")


def _header(v: TemplateVersion) -> str:
    if v.created_at is None:
        said = "the seed (default or mapping.templates_dir file)"
    else:
        said = f"saved by {v.author} at {v.created_at.isoformat(timespec='seconds')}"
    return (
        f"{HEADER}{v.label} {said}\n"
        f"{HEADER}keep this line: import refuses the file if a version was saved since\n"
    )


@dataclass(frozen=True)
class _File:
    path: Path
    name: str
    body: str
    based_on: int | None


def _read(path: Path) -> _File:
    """The template in ``path`` without export's header; exit 2 naming the line if broken."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = [line for line in lines if line.startswith(HEADER)]
    body = "".join(line for line in lines if not line.startswith(HEADER))
    try:
        load_yaml(body)
        name = load_template(body, source=path.name).name
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1 + len(header)}" if mark else ""
        errors.print(f"[red]error:[/red] {escape(path.name)}{where}: {escape(str(exc.problem))}")
        raise typer.Exit(2) from None
    except TemplateError as exc:
        errors.print(f"[red]error:[/red] {escape(path.name)}: {escape(str(exc))}")
        raise typer.Exit(2) from None
    exported = _EXPORTED.match(header[0]) if header else None
    based_on = None
    if exported and exported["name"] == name:
        based_on = _version(exported["version"])
    return _File(path, name, body, based_on)


def import_command(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A folder of <template>.yaml files.")],
    activate: Annotated[
        bool, typer.Option("--activate", help="Activate each saved version that validates.")
    ] = False,
    comment: Comment = "",
    actor: Actor = None,
) -> None:
    """Save each changed template file as a new version (unchanged ones are skipped)."""
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="DIR")
    files = [_read(path) for path in sorted(folder.glob("*.y*ml"))]
    who = actor or cli_actor()

    async def go(container: Container) -> int:
        refused = 0
        for file in files:
            try:
                await _import_one(container, file, who, comment, activate=activate)
            except DomainError as exc:
                errors.print(f"[red]refused:[/red] {escape(file.path.name)}: {escape(str(exc))}")
                refused += 1
        return refused

    if with_container(settings_from(ctx), go):
        raise typer.Exit(1)


async def _import_one(
    container: Container, file: _File, actor: str, comment: str, *, activate: bool
) -> None:
    store = container.template_versions()
    try:
        base = await (
            store.latest(file.name)
            if file.based_on is None
            else store.get(file.name, file.based_on)
        )
    except UnknownTemplateVersion:
        if file.based_on:
            raise
        base = None  # a template new to payledger: its first version
    if base is not None and base.body == file.body:
        console.print(f"{escape(file.path.name)}: unchanged ({escape(base.label)})")
        return
    based_on = base.version if base is not None else SEED
    saved = await store.save(file.name, file.body, author=actor, based_on=based_on, comment=comment)
    console.print(f"{escape(file.path.name)}: saved as {escape(saved.label)}")
    if activate:
        await store.activate(
            file.name,
            saved.version,
            actor=actor,
            catalog=await container.template_catalog(),
            settings=container.template_settings(),
            comment=comment,
        )
        console.print(f"{escape(file.path.name)}: {escape(saved.label)} is active")
