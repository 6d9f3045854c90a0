"""``payledger status``: inbox, jobs, postings and dead letters at a glance."""

from __future__ import annotations

import typer
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import console, settings_from, with_container
from payledger.views.overview import Overview, overview


def status(ctx: typer.Context) -> None:
    """Show what is waiting, what was posted and what needs a human."""

    async def go(container: Container) -> Overview:
        return await overview(container.database)

    seen = with_container(settings_from(ctx), go)
    inbox = Table("status", "events", title="inbox")
    for name, count in sorted(seen.inbox.items()):
        inbox.add_row(name, f"{count:,}")
    if seen.oldest_unprocessed:
        inbox.caption = (
            f"oldest unprocessed since {seen.oldest_unprocessed.isoformat(timespec='seconds')}"
        )
    console.print(inbox)
    _pivot("jobs", "kind", seen.jobs, ("pending", "running", "done", "dead"))
    _pivot(
        "postings",
        "operation",
        seen.postings,
        ("planned", "sending", "unknown", "posted", "shadow", "cancelled", "dead"),
    )
    if seen.dead_jobs or seen.dead_postings:
        dead = Table("what", "id", "error", title="dead letters (payledger replay ...)")
        for job in seen.dead_jobs:
            dead.add_row(f"job {job['kind']}", str(job["id"]), str(job["last_error"] or "")[:120])
        for posting in seen.dead_postings:
            dead.add_row(
                f"posting {posting['operation']}",
                posting["reference"],
                str(posting["last_error"] or "")[:120],
            )
        console.print(dead)
    else:
        console.print("[green]no dead letters[/green]")


def _pivot(
    title: str, row_name: str, counts: dict[tuple[str, str], int], columns: tuple[str, ...]
) -> None:
    table = Table(row_name, *columns, title=title)
    for row in sorted({key for key, _ in counts}):
        table.add_row(row, *(f"{counts.get((row, column), 0):,}" for column in columns))
    console.print(table)
