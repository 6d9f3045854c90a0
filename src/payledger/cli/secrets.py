"""``payledger secrets``: manage the selected secret store without ever showing a value."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from payledger.adapters.vault import SecretInfo
from payledger.bootstrap import Container
from payledger.cli.common import console, settings_from, with_container

app = typer.Typer(
    help="Store, list, rotate and delete secrets (values are never printed).", no_args_is_help=True
)


def _read_value(name: str) -> str:
    if not sys.stdin.isatty():
        value = sys.stdin.read().rstrip("\r\n")
    else:
        value = typer.prompt(f"value for {name}", hide_input=True, confirmation_prompt=True)
    if not value:
        raise typer.BadParameter("the secret value is empty")
    return value


@app.command("set")
def set_secret(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name the configuration refers to.")],
    actor: Annotated[str, typer.Option(help="Recorded in the audit log.")] = "cli",
) -> None:
    """Store a secret; the value is read from stdin or a hidden prompt, never from arguments."""
    value = _read_value(name)

    async def go(container: Container) -> None:
        await container.vault.set(name, value, actor=actor)

    with_container(settings_from(ctx), go)
    console.print(f"secret [bold]{name}[/bold] stored")


@app.command("list")
def list_secrets(ctx: typer.Context) -> None:
    """List secret names with when they were created and last changed."""

    async def go(container: Container) -> list[SecretInfo]:
        return await container.vault.list()

    infos = with_container(settings_from(ctx), go)
    table = Table("name", "created", "changed")
    for info in infos:
        table.add_row(
            info.name,
            info.created_at.isoformat(timespec="seconds"),
            info.rotated_at.isoformat(timespec="seconds") if info.rotated_at else "",
        )
    console.print(table)


@app.command("get-info")
def get_info(ctx: typer.Context, name: str) -> None:
    """Show whether a secret exists, when it was created and changed, and its version."""

    async def go(container: Container) -> SecretInfo:
        return await container.vault.info(name)

    info = with_container(settings_from(ctx), go)
    provider = settings_from(ctx).vault.provider
    console.print(f"secret [bold]{info.name}[/bold] in the {provider} store")
    console.print(f"  created  {info.created_at.isoformat(timespec='seconds')}")
    if info.rotated_at:
        console.print(f"  changed  {info.rotated_at.isoformat(timespec='seconds')}")
    if info.version:
        console.print(f"  version  {info.version}")


@app.command("rotate")
def rotate(ctx: typer.Context, actor: Annotated[str, typer.Option()] = "cli") -> None:
    """Re-encrypt every secret under a new master key, then retire the old key (database
    provider only: an external store keeps its own keys)."""

    async def go(container: Container) -> int:
        return await container.database_vault().rotate_master_key(actor=actor)

    count = with_container(settings_from(ctx), go)
    console.print(f"master key rotated; {count} secret(s) re-encrypted")


@app.command("delete")
def delete(ctx: typer.Context, name: str, actor: Annotated[str, typer.Option()] = "cli") -> None:
    """Delete a secret."""

    async def go(container: Container) -> bool:
        return await container.vault.delete(name, actor=actor)

    if not with_container(settings_from(ctx), go):
        console.print(f"no secret named [bold]{name}[/bold]")
        raise typer.Exit(1)
    console.print(f"secret [bold]{name}[/bold] deleted")
