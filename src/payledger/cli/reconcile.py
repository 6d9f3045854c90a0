"""``payledger reconcile``: PayTrace's settled batches of a day or period against D365.

``payledger reconcile --date 2026-03-24`` or ``--from A --to B`` runs a reconciliation (with
progress bars while it fetches) and prints its totals and exceptions; ``payledger reconcile
show RUN`` prints a stored report (``--format json|csv|html`` for the machine, accountant and
browser versions); ``payledger reconcile list`` lists the latest runs.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from payledger.bootstrap import Container, reconcile_parts
from payledger.cli.common import console, errors, settings_from, setup_logging, with_container
from payledger.flows.reconcile_period import ReconcileResult, run_reconciliation
from payledger.stores.reconciliation import load_run, recent_runs

app = typer.Typer(
    help="Settlement reconciliation: PayTrace batches against D365 payment lines.",
    invoke_without_command=True,
)


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    HTML = "html"


class RichProgress:
    """A ``Progress`` port that draws one bar per fetch."""

    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.tasks: dict[str, Any] = {}

    def __call__(self, task: str, done: int, total: int | None) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bars.add_task(task, total=total)
        self.bars.update(self.tasks[task], completed=done, total=total)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def period_of(on: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    """The days to reconcile: ``--date`` alone, or ``--from`` with ``--to``."""
    day, first, last = _day(on, "--date"), _day(start, "--from"), _day(end, "--to")
    if day is not None and (first or last):
        raise typer.BadParameter("give --date or --from/--to, not both", param_hint="--date")
    if day is not None:
        return day, day
    if first is None or last is None:
        raise typer.BadParameter("give --date D, or --from A --to B", param_hint="--from/--to")
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}", param_hint="--to")
    return first, last


@app.callback()
def reconcile(
    ctx: typer.Context,
    on: Annotated[
        str | None, typer.Option("--date", help="Reconcile this PayTrace day (YYYY-MM-DD).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day of a period.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day of a period.")] = None,
    fail_on_exceptions: Annotated[
        bool, typer.Option(help="Exit with status 1 when the run has exceptions.")
    ] = False,
) -> None:
    """Reconcile PayTrace's settled batches of a day or period against D365."""
    if ctx.invoked_subcommand is not None:
        return
    first, last = period_of(on, start, end)
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def go(container: Container) -> ReconcileResult:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bars:
            parts = await reconcile_parts(container)
            return await run_reconciliation(first, last, parts, progress=RichProgress(bars))

    result = with_container(settings, go)
    print_report(result.report)
    console.print(
        f"run {result.run_id}: [bold]payledger reconcile show {result.run_id}[/bold] "
        "(--format json|csv|html)"
    )
    if fail_on_exceptions and result.exceptions:
        raise typer.Exit(1)


def print_report(report: dict[str, Any]) -> None:
    """Totals per class and per batch, then the exceptions (the first 30)."""
    period = report["period"]
    classes = Table("class", "items", "exceptions", "PayTrace", "D365")
    classes.title = f"reconciliation {report['run']}: {period['from']} .. {period['to']}"
    for kind, total in report["totals"]["by_class"].items():
        if total["count"]:
            classes.add_row(
                kind,
                f"{total['count']:,}",
                str(total["exceptions"]),
                _money(total["paytrace"]),
                _money(total["d365"]),
            )
    console.print(classes)
    batches = Table("batch", "settled", "items", "exceptions", "PayTrace net", "fees", "deposit")
    for batch in report["totals"]["by_batch"]:
        batches.add_row(
            batch["batch"],
            batch["settled"],
            f"{batch['count']:,}",
            str(batch["exceptions"]),
            _money(batch["paytrace"]),
            _money(batch.get("expected_fees", {})),
            batch["deposit"],
        )
    console.print(batches)
    exceptions = [item for item in report["items"] if item["exception"]]
    if exceptions:
        table = Table("class", "PayTrace txn", "reference", "PayTrace", "D365", "heal", "note")
        table.title = f"{report['exceptions']} exception(s)"
        for item in exceptions[:30]:
            table.add_row(
                item["class"],
                item["txn_id"],
                item["reference"],
                item["paytrace_amount"],
                item["d365_amount"],
                item["heal"],
                item["note"],
            )
        console.print(table)
    else:
        console.print("[green]no exceptions[/green]")
    if report.get("heals"):
        heals = ", ".join(f"{state} {count}" for state, count in sorted(report["heals"].items()))
        console.print(f"auto-heal: {heals}")


def _money(amounts: dict[str, str]) -> str:
    return ", ".join(f"{value} {currency}" for currency, value in amounts.items()) or "-"


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="The run id (see payledger reconcile list).")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="How to print it.")] = (
        ReportFormat.TABLE
    ),
    output: Annotated[Path | None, typer.Option(help="Write to this file instead.")] = None,
) -> None:
    """Print a stored reconciliation report."""

    async def go(container: Container) -> dict[str, Any] | None:
        return await load_run(container.database, run_id)

    run = with_container(settings_from(ctx), go)
    if run is None:
        errors.print(f"[red]error:[/red] no reconciliation run {run_id}")
        raise typer.Exit(2)
    if run["report"] is None:
        errors.print(f"[red]error:[/red] run {run_id} is {run['status']}: {run['error'] or ''}")
        raise typer.Exit(2)
    if fmt is ReportFormat.TABLE and output is None:
        print_report(run["report"])
        return
    if fmt is ReportFormat.CSV:
        text = str(run["report_csv"])
    elif fmt is ReportFormat.HTML:
        text = str(run["report_html"])
    else:
        text = json.dumps(run["report"], indent=2, sort_keys=True)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"report of run {run_id} written to {output}")
    else:
        print(text)  # raw output for pipes, without Rich markup


@app.command("list")
def list_runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many runs.", min=1)] = 20,
) -> None:
    """The latest reconciliation runs."""

    async def go(container: Container) -> list[dict[str, Any]]:
        return await recent_runs(container.database, limit)

    runs = with_container(settings_from(ctx), go)
    table = Table("run", "period", "trigger", "status", "exceptions", "started")
    for run in runs:
        period = (
            run["first_day"]
            if run["first_day"] == run["last_day"]
            else (f"{run['first_day']} .. {run['last_day']}")
        )
        table.add_row(
            str(run["id"]),
            period,
            run["trigger"],
            run["status"],
            str(run["exceptions"]),
            run["started_at"].isoformat(timespec="seconds"),
        )
    console.print(table)
