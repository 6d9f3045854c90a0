"""``payledger scan-pan``: prove no card data was stored or logged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from payledger.adapters.db.scan import CardDataHit, scan_database, stored_card_data
from payledger.cli.common import console, opened, run, settings_from


def scan_log_files(paths: list[Path]) -> list[CardDataHit]:
    """Every log line holding card data, in the given files and the files under given folders."""
    hits = []
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in (f for f in files if f.is_file()):
            with file.open(encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    if found := stored_card_data(line):
                        hits.append(CardDataHit(f"{file}:{number}", ", ".join(found)))
    return hits


def scan_pan(
    ctx: typer.Context,
    log: Annotated[
        list[Path] | None, typer.Option("--log", help="Extra log file or folder to scan.")
    ] = None,
) -> None:
    """Scan every table of the database and the log files for card data; exit 1 on any hit.

    Each hit names where (table.column and the row's primary key, or file:line) and what
    (the card masked as ``[card ****1111]``, ``[track data]``, or a card-data field name).
    """
    settings = settings_from(ctx)
    log_paths = [p for p in [settings.logging.file, *(log or [])] if p is not None and p.exists()]

    async def go() -> list[CardDataHit]:
        async with opened(settings) as container:
            return [hit async for hit in scan_database(container.database)]

    hits = run(go()) + scan_log_files(log_paths)
    scanned = escape(", ".join(str(p) for p in log_paths) or "no log files")
    if not hits:
        console.print(
            f"[green]0 card-data hits[/green] in the database and {scanned}", soft_wrap=True
        )
        return
    table = Table("where", "what", title="card data found")
    for hit in hits:  # Text, not markup: "[card ****1111]" would be read as a style tag
        table.add_row(Text(hit.place), Text(hit.what))
    # as wide as the longest row, so that no place or mask is wrapped or cut short
    width = max(len(hit.place) + len(hit.what) for hit in hits) + 7
    Console(width=max(console.width, width)).print(table)
    console.print(
        f"[red]{len(hits)} card-data hit(s)[/red] in the database and {scanned}", soft_wrap=True
    )
    raise typer.Exit(1)
