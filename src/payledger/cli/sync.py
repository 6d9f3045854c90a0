"""``payledger sync customers``: D365 customers flagged for sync ⇄ PayTrace customer profiles."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from payledger.bootstrap import Container, customer_sync_command, customer_sync_parts
from payledger.cli.common import console, settings_from, setup_logging, with_container
from payledger.flows.sync_customers import SyncReport, run_customer_sync

app = typer.Typer(help="Keep D365 and PayTrace records in step.", no_args_is_help=True)

MAX_CHANGES_SHOWN = 20


@app.command("customers")
def customers(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
) -> None:
    """Sync D365 customers flagged for sync with PayTrace customer profiles (tokens only).

    Pairs each flagged customer with its profile, writes ids on both sides, settles differing
    values by ``[sync] conflict_policy``, turns auto-pay off for blocked or deleted customers
    and gives unlinked profiles a D365 customer. Exit status 1 when a customer failed.
    """
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def go(container: Container) -> SyncReport:
        command = customer_sync_command(container.settings, dry_run=dry_run)
        return await run_customer_sync(command, await customer_sync_parts(container))

    report = with_container(settings, go)
    show(report, dry_run=dry_run, policy=settings.sync.conflict_policy)
    if report.failures:
        raise typer.Exit(1)


def show(report: SyncReport, *, dry_run: bool, policy: str) -> None:
    title = "customer sync" + (" (dry run: nothing was written)" if dry_run else "")
    summary = Table("", "count", title=title)
    rows = [
        ("D365 customers in scope", report.in_scope),
        ("PayTrace profiles", report.profiles),
        ("pairs", report.paired),
        ("already in step", report.in_step),
        ("D365 customers updated", report.written("erp")),
        ("PayTrace profiles updated", report.written("gateway")),
        ("ids written back", report.ids_written),
        (f"conflicts settled ({policy} wins)", report.conflicts),
        ("D365 customers created for profiles", len(report.created_in_erp)),
        ("flagged, no card on file yet", len(report.awaiting_card)),
        ("auto-pay turned off (blocked)", len(report.auto_pay_disabled)),
        ("profiles of customers deleted in D365", len(report.deleted_in_erp)),
        ("recurring payments stopped", report.recurrences_stopped),
        ("profiles left unlinked", len(report.unlinked)),
        ("failed", len(report.failures)),
    ]
    for label, count in rows:
        summary.add_row(label, f"{count:,}")
    console.print(summary)
    if report.changes:
        changes = Table("where", "who", "fields", title="changes")
        for change in report.changes[:MAX_CHANGES_SHOWN]:
            where = "D365" if change.side == "erp" else "PayTrace"
            changes.add_row(where, change.subject, ", ".join(sorted(change.values)))
        if len(report.changes) > MAX_CHANGES_SHOWN:
            changes.caption = f"... and {len(report.changes) - MAX_CHANGES_SHOWN} more"
        console.print(changes)
    for subject, error in report.failures:
        console.print(f"[red]failed[/red] {subject}: {error}")
