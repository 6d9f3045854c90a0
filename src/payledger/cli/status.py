"""``payledger status``: inbox, jobs, postings, dead letters and cash at a glance."""

from __future__ import annotations

import typer
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import console, settings_from, with_container
from payledger.views.cash import FLOWS, CashPicture, cash_picture
from payledger.views.overview import Overview, overview


def status(ctx: typer.Context) -> None:
    """Show what is waiting, what was posted and what needs a human.

    Then the cash of today and of this week (business days of ``[d365] timezone``) by currency
    and payment method, and the oldest journal not posted in D365.
    """

    async def go(container: Container) -> tuple[Overview, CashPicture]:
        d365 = container.settings.d365
        cash = await cash_picture(
            container.database,
            company=d365.company,
            timezone=d365.timezone,
            now=container.clock.now(),
        )
        return await overview(container.database), cash

    seen, cash = with_container(settings_from(ctx), go)
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
    _cash(cash)


def _cash(cash: CashPicture) -> None:
    for period in cash.periods:
        days = f"{period.first_day}" + (
            f" to {period.last_day}" if period.last_day != period.first_day else ""
        )
        title = f"cash {'today' if period.name == 'today' else 'this week'} ({days})"
        table = Table("currency", "method", *FLOWS, title=title)
        for row in period.rows:
            table.add_row(
                row.currency, row.method, *(f"{m.amount:,}" for m in row.amounts.values())
            )
        table.caption = f"business days of {cash.timezone}" if period.rows else "no money moved"
        console.print(table)
    oldest = cash.oldest_unposted
    if oldest is None:
        console.print("[green]every journal is posted[/green]")
        return
    hours = oldest.age_seconds / 3600
    console.print(
        f"oldest unposted journal: {oldest.batch_number} of {oldest.business_day}, "
        f"open {hours:,.1f} h, {oldest.amount.amount:,} {oldest.amount.currency}"
    )


def _pivot(
    title: str, row_name: str, counts: dict[tuple[str, str], int], columns: tuple[str, ...]
) -> None:
    table = Table(row_name, *columns, title=title)
    for row in sorted({key for key, _ in counts}):
        table.add_row(row, *(f"{counts.get((row, column), 0):,}" for column in columns))
    console.print(table)
