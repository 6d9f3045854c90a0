"""``payledger doctor``: is this installation ready to go live? One line per check."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from payledger.cli.common import console, opened, run, settings_from
from payledger.doctor.configure import CheckResult, doctor

_STYLE = {"ok": "green", "FAIL": "bold red", "skip": "yellow"}


def doctor_command(ctx: typer.Context) -> None:
    """Check access (database, vault, PayTrace, D365), setup and templates; exit 1 on a failure.

    Nothing is created in PayTrace or D365, and the database is not migrated. ``skip`` lines
    are not enabled or cannot be verified in this environment; they never fail the run.
    """
    settings = settings_from(ctx)

    async def go() -> list[CheckResult]:
        async with opened(settings, prepare=False) as container:
            return await doctor(container)

    results = run(go())
    table = Table("", "check", "result (and how to fix it)")
    phase = None
    for result in results:
        if result.phase != phase:
            phase = result.phase
            table.add_row("", f"[bold]{escape(phase)}[/bold]", "")
        style = _STYLE[result.status]
        text = escape(result.detail)
        if result.hint and result.status != "ok":
            text += f"\n[{style}]→ {escape(result.hint)}[/{style}]"
        table.add_row(f"[{style}]{result.status}[/{style}]", escape(result.name), text)
    console.print(table)
    failed = [r for r in results if r.status == "FAIL"]
    skipped = [r for r in results if r.status == "skip"]
    summary = f"{len(results) - len(failed) - len(skipped)} ok, {len(skipped)} skipped, "
    if failed:
        console.print(f"[bold red]{summary}{len(failed)} failed[/bold red]")
        raise typer.Exit(1)
    console.print(f"[green]{summary}0 failed: ready[/green]")
