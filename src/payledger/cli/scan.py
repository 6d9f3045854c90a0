"""``payledger scan-pan``: prove no card data was stored or logged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.adapters.db.scan import CardDataHit, scan_database
from payledger.cli.common import console, opened, run, settings_from
from payledger.domain.card_data import find_card_numbers, holds_card_data, mask


def scan_log_files(paths: list[Path]) -> list[CardDataHit]:
    hits = []
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in (f for f in files if f.is_file()):
            with file.open(encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    if holds_card_data(line):
                        found = find_card_numbers(line)
                        hits.append(
                            CardDataHit(
                                f"{file}:{number}", mask(found[0]) if found else "[track data]"
                            )
                        )
    return hits


def scan_pan(
    ctx: typer.Context,
    log: Annotated[
        list[Path] | None, typer.Option("--log", help="Extra log file or folder to scan.")
    ] = None,
) -> None:
    """Scan the database and the log files for card data; exit 1 on any hit."""
    settings = settings_from(ctx)
    log_paths = [p for p in [settings.logging.file, *(log or [])] if p is not None and p.exists()]

    async def go() -> list[CardDataHit]:
        async with opened(settings) as container:
            return [hit async for hit in scan_database(container.database)]

    hits = run(go()) + scan_log_files(log_paths)
    scanned = ", ".join(str(p) for p in log_paths) or "no log files"
    if not hits:
        console.print(f"[green]0 card-data hits[/green] in the database and {scanned}")
        return
    table = Table("where", "what")
    for hit in hits:
        table.add_row(hit.place, hit.sample)
    console.print(table)
    console.print(f"[red]{len(hits)} card-data hit(s)[/red]")
    raise typer.Exit(1)
