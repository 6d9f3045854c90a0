"""``payledger backup DEST``: a consistent copy of the SQLite database while payledger runs."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from payledger.cli.common import console, errors, settings_from

POSTGRES_ADVICE = (
    "payledger backup copies SQLite databases only; on PostgreSQL use pg_dump "
    "(pg_dump --format=custom --file=payledger.dump DATABASE) or the server's "
    "point-in-time recovery (base backups plus WAL archiving): see docs/deploy.md"
)


class BackupFailed(Exception):
    """The copy could not be made or did not verify; nothing was left at the destination."""


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL, or None for any other backend."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupFailed("database.url names no SQLite file to back up")
    return Path(parsed.database)


def backup_sqlite(source: Path, destination: Path, *, busy_timeout_ms: int) -> int:
    """Copy ``source`` to ``destination`` with SQLite's online backup API and verify the copy
    with ``PRAGMA integrity_check``; return its size in bytes.

    The copy is one snapshot (one read transaction): writers go on meanwhile (WAL), and what
    they commit after the snapshot is not in it. The copy is written next to ``destination``
    and renamed into place only once it verified, so a failed backup leaves nothing behind.
    """
    if not source.is_file():
        raise BackupFailed(f"there is no database at {source}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))  # it holds the vault's rows
    try:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=busy_timeout_ms / 1000)) as origin,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise BackupFailed(f"the copy failed its integrity check: {'; '.join(verdict)}")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(destination)
    except sqlite3.Error as exc:
        raise BackupFailed(f"cannot copy {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return destination.stat().st_size


def backup(
    ctx: typer.Context,
    destination: Annotated[Path, typer.Argument(help="File to write the copy to.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace DEST if it exists.")
    ] = False,
) -> None:
    """Copy the SQLite database to DEST while payledger runs, and verify the copy.

    The copy is consistent (one snapshot taken with SQLite's online backup API) and checked
    with PRAGMA integrity_check. The vault's master key is not in it: keep that apart. On
    PostgreSQL, use pg_dump or point-in-time recovery instead (exit status 2).
    """
    settings = settings_from(ctx)
    try:
        source = sqlite_path(settings.database.url)
        if source is None:
            errors.print(f"[red]error:[/red] {escape(POSTGRES_ADVICE)}", soft_wrap=True)
            raise typer.Exit(2)
        if destination.exists() and not overwrite:
            raise BackupFailed(f"{destination} exists; choose a new name or add --overwrite")
        size = backup_sqlite(source, destination, busy_timeout_ms=settings.database.busy_timeout_ms)
    except BackupFailed as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(
        f"backed up {escape(str(source))} to [bold]{escape(str(destination))}[/bold]: "
        f"{size:,} bytes, integrity ok",
        soft_wrap=True,
    )
