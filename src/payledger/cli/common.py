"""What every command shares: loading settings, building the container, reporting errors."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from payledger.bootstrap import Container, build
from payledger.config import Settings, load_settings
from payledger.domain.errors import PayLedgerError
from payledger.logs import configure_logging

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


def settings_from(ctx: typer.Context) -> Settings:
    settings: Settings = (
        ctx.obj["settings"]() if callable(ctx.obj["settings"]) else ctx.obj["settings"]
    )
    ctx.obj["settings"] = settings
    return settings


def setup_logging(settings: Settings, *, stderr: bool = True) -> None:
    s = settings.logging
    configure_logging(level=s.level, fmt=s.format, file=s.file, stderr=stderr)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; a payledger error becomes a red message and exit status 2."""
    try:
        return asyncio.run(coroutine)
    except PayLedgerError as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


@asynccontextmanager
async def opened(settings: Settings, *, prepare: bool = True) -> Any:
    """A built container, migrated when embedded, closed afterwards."""
    container = build(settings)
    try:
        if prepare:
            await container.prepare()
        yield container
    finally:
        await container.aclose()


def with_container(settings: Settings, action: Callable[[Container], Awaitable[T]]) -> T:
    async def go() -> T:
        async with opened(settings) as container:
            return await action(container)

    return run(go())


def load(config: str | None) -> Callable[[], Settings]:
    def loader() -> Settings:
        try:
            return load_settings(config)
        except PayLedgerError as exc:
            errors.print(f"[red]error:[/red] {escape(str(exc))}")
            sys.exit(2)

    return loader


def cli_actor() -> str:
    """Who the audit log names for a command run here: ``cli:<user>`` (``cli`` if unknown)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
