"""``payledger tokens``: API tokens for shops and other callers of ``/api/v1``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import console, errors, settings_from, with_container
from payledger.domain.errors import DomainError
from payledger.stores.api_clients import (
    ApiClients,
    IssuedToken,
    Role,
    Scope,
    TokenInfo,
    role_of,
    scopes_of_role,
)

app = typer.Typer(
    help="Create, list and revoke API tokens (stored hashed; a token is shown once).",
    no_args_is_help=True,
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The API client (e.g. the shop's name).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help=f"Repeat for several: {', '.join(s.value for s in Scope)}.",
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help=f"A console role ({', '.join(r.value for r in Role)}): the scopes of that "
            "role and of the roles below it (e.g. operator: read operate). Adds to --scope.",
        ),
    ] = None,
    expires_days: Annotated[
        float | None, typer.Option(help="Days until the token stops working (default: never).")
    ] = None,
    actor: Annotated[str, typer.Option(help="Recorded in the audit log.")] = "cli",
) -> None:
    """Make a token for client NAME and print it once: it cannot be shown again.

    Give its powers with --scope (repeatable), --role (a console role, as shorthand), or both.
    """
    if expires_days is not None and expires_days <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--expires-days")
    expires_in = timedelta(days=expires_days) if expires_days else None
    scopes = list(scope or [])
    if role is not None:
        try:
            scopes += scopes_of_role(role)
        except DomainError as exc:
            raise typer.BadParameter(str(exc), param_hint="--role") from None
    if not scopes:
        raise typer.BadParameter("give --scope or --role", param_hint="--scope/--role")

    async def go(container: Container) -> IssuedToken:
        async with container.database.transaction() as conn:
            return await ApiClients(container.clock).issue(
                conn, name, scopes, actor=actor, expires_in=expires_in
            )

    issued = with_container(settings_from(ctx), go)  # a bad name or scope: exit status 2
    console_role = role_of(issued.scopes)
    errors.print(
        f"token {issued.token_id} for client [bold]{issued.client}[/bold] "
        f"({' '.join(issued.scopes)}; console role: "
        f"{console_role.value if console_role else 'none'}); store it now, it is not shown again:"
    )
    typer.echo(issued.secret)


@app.command("list")
def list_tokens(ctx: typer.Context) -> None:
    """Every token with its client, scopes and state (never the token itself)."""

    async def go(container: Container) -> list[TokenInfo]:
        async with container.database.transaction() as conn:
            return await ApiClients(container.clock).list(conn)

    infos = with_container(settings_from(ctx), go)
    table = Table(
        "id", "client", "token", "scopes", "role", "created", "expires", "last used", "state"
    )
    for info in infos:
        table.add_row(
            str(info.token_id),
            info.client,
            f"{info.prefix}…",
            " ".join(info.scopes),
            role.value if (role := role_of(info.scopes)) else "",
            info.created_at.isoformat(timespec="seconds"),
            info.expires_at.isoformat(timespec="seconds") if info.expires_at else "never",
            info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "",
            "revoked" if info.revoked_at else "active",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The id shown by 'tokens list'.")],
    actor: Annotated[str, typer.Option(help="Recorded in the audit log.")] = "cli",
) -> None:
    """Revoke a token at once: requests carrying it get 401 from now on."""

    async def go(container: Container) -> bool:
        async with container.database.transaction() as conn:
            return await ApiClients(container.clock).revoke(conn, token_id, actor=actor)

    if not with_container(settings_from(ctx), go):
        errors.print(f"no active token with id {token_id}")
        raise typer.Exit(1)
    console.print(f"token {token_id} revoked")
