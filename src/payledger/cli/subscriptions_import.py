"""``payledger subscriptions import``: PayTrace's recurring schedules become subscriptions.

Each active PayTrace recurrence becomes a payledger subscription of the D365 customer whose
PayTrace customer id it charges, billed from its next run; PayTrace keeps charging it until
``--take-over`` deletes the recurrence, after the subscription is stored. Running it again
imports nothing twice. ``--dry-run`` changes nothing and shows what would be done.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import cli_actor, console, settings_from, setup_logging, with_container


def import_subscriptions(
    ctx: typer.Context,
    take_over: Annotated[
        bool,
        typer.Option(
            "--take-over",
            help="Delete each imported recurrence at PayTrace; payledger bills it from then.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Change nothing; show what would be done.")
    ] = False,
) -> None:
    """Import PayTrace's recurring schedules as subscriptions (and take them over)."""
    from payledger.bootstrap.subscription_imports import import_command, import_ports
    from payledger.flows.import_schedules import ImportOutcome, import_schedules

    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def go(container: Container) -> None:
        cmd = import_command(container, take_over=take_over, dry_run=dry_run, actor=cli_actor())
        report = await import_schedules(cmd, await import_ports(container))
        table = Table("recurrence", "customer", "outcome", "subscription", "detail")
        for row in report.rows:
            table.add_row(
                row.schedule_id,
                escape(row.vault_customer_id),
                row.outcome.value,
                str(row.subscription_id or ""),
                escape(row.detail),
            )
        console.print(table if table.row_count else "PayTrace has no recurring schedules")
        counts = ", ".join(f"{report.count(o)} {o.value}" for o in ImportOutcome)
        console.print(("dry run (nothing changed): " if dry_run else "") + counts)

    with_container(settings, go)
