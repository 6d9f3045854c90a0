"""``payledger doctor``: is this installation ready to go live? One line per check."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from payledger import doctor
from payledger.cli.common import console, opened, run, settings_from

_STYLE = {"ok": "green", "FAIL": "bold red", "skip": "yellow"}


def doctor_command(ctx: typer.Context) -> None:
    """Check access (database, vault, PayTrace, D365), setup and templates; exit 1 on a failure.

    Nothing is created in PayTrace or D365, and the database is not migrated. ``skip`` lines
    are not enabled or cannot be verified in this environment; they never fail the run.
    """
    settings = settings_from(ctx)

    async def go() -> list[doctor.Finding]:
        async with opened(settings, prepare=False) as container:
            return await doctor.run(container)

    findings = run(go())
    table = Table("", "check", "result (and how to fix it)")
    phase = None
    for finding in findings:
        if finding.phase != phase:
            phase = finding.phase
            table.add_row("", f"[bold]{escape(phase)}[/bold]", "")
        style = _STYLE[finding.status]
        text = escape(finding.detail)
        if finding.hint and finding.status != "ok":
            text += f"\n[{style}]→ {escape(finding.hint)}[/{style}]"
        table.add_row(f"[{style}]{finding.status}[/{style}]", escape(finding.name), text)
    console.print(table)
    failed = [f for f in findings if f.status == "FAIL"]
    skipped = [f for f in findings if f.status == "skip"]
    summary = f"{len(findings) - len(failed) - len(skipped)} ok, {len(skipped)} skipped, "
    if failed:
        console.print(f"[bold red]{summary}{len(failed)} failed[/bold red]")
        raise typer.Exit(1)
    console.print(f"[green]{summary}0 failed: ready[/green]")
