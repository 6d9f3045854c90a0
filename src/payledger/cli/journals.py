"""``payledger journals``: the payment journals payledger opened, and posting one now.

``payledger journals list`` prints them (batch number, day, currency, lines, total, state,
age, error); ``payledger journals post ID`` approves journal ``ID`` (its batch number) and
posts it if it is ready, in the ``after_review`` and ``when_balanced`` modes.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.bootstrap.journals import PosterFactory, d365_journal_poster, journal_book, post_now
from payledger.cli.common import (
    cli_actor,
    console,
    errors,
    settings_from,
    setup_logging,
    with_container,
)
from payledger.flows.post_ready_journals import PostOutcome

app = typer.Typer(help="Payment journals: list them; approve and post one now.")

SAYS = {
    PostOutcome.POSTED: "posted in D365",
    PostOutcome.WAITING: "approved; not ready yet (lines still on their way, or D365 busy): "
    "it is posted by the next run once it is",
    PostOutcome.UNCONFIRMED: "sent; D365 has not confirmed it posted yet: read back on the "
    "next run, never sent twice",
    PostOutcome.UNBALANCED: "not posted: it does not balance",
    PostOutcome.REFUSED: "not posted: D365 refused it",
}


@app.command("list")
def list_journals(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 50,
) -> None:
    """List the latest journals with their lines, total, state, age and last error."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def show(container: Container) -> None:
        now = container.clock.now()
        table = Table("batch", "day", "currency", "lines", "total", "state", "age", "error")
        for row in await journal_book(container).overview(limit=limit):
            j, contents = row.journal, row.contents
            lines = f"{contents.lines}" + (f" (+{contents.owed})" if contents.owed else "")
            age = _age((now - j.created_at).total_seconds()) if j.created_at else ""
            state = j.state.value + (", closed" if j.closed and j.state.value == "unposted" else "")
            table.add_row(
                j.batch_number,
                j.business_day,
                j.currency,
                lines,
                str(contents.total),
                state,
                age,
                escape(j.post_error),
            )
        console.print(table if table.row_count else "no journals yet")

    with_container(settings, show)


@app.command("post")
def post(
    ctx: typer.Context,
    batch_number: Annotated[str, typer.Argument(metavar="ID", help="The journal's batch number.")],
) -> None:
    """Approve journal ID and post it now if it is closed and balanced."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)
    poster: PosterFactory = (ctx.obj or {}).get("journal_poster", d365_journal_poster)

    async def go(container: Container) -> PostOutcome:
        journal, outcome = await post_now(container, batch_number, cli_actor(), poster)
        message = f"journal {journal.batch_number}: {SAYS[outcome]}"
        if journal.post_error and outcome is not PostOutcome.POSTED:
            message += f" ({escape(journal.post_error)})"
        (console if outcome not in _FAILED else errors).print(message)
        return outcome

    if with_container(settings, go) in _FAILED:
        raise typer.Exit(1)


_FAILED = (PostOutcome.UNBALANCED, PostOutcome.REFUSED)


def _age(seconds: float) -> str:
    minutes = int(seconds) // 60
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"
