"""``payledger demo``: the main job on the embedded default, explained as it runs.

Until the payment flow exists this is an engine self-check: it exercises the durable queue,
inbox, schedules, vault and card-data guard on a fresh SQLite database under ``var/demo`` and
says what each step proved. Any failed check makes the command exit non-zero.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import console, opened, run, setup_logging
from payledger.config import DatabaseSettings, LoggingSettings, Settings, VaultSettings
from payledger.selfcheck import CheckResult, run_self_check


def demo(
    workdir: Annotated[
        Path, typer.Option(help="Where the demo keeps its fresh database and logs.")
    ] = Path("var/demo"),
) -> None:
    """Run the main job on the embedded SQLite default and show what happened."""
    shutil.rmtree(workdir, ignore_errors=True)
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{workdir / 'payledger.db'}"),
        vault=VaultSettings(key_file=workdir / "master.key"),
        logging=LoggingSettings(file=workdir / "payledger.log", level="INFO"),
    )
    setup_logging(settings, stderr=False)
    console.rule("[bold]payledger demo[/bold]: engine self-check on embedded SQLite")

    async def go() -> list[CheckResult]:
        async with opened(settings) as container:
            return await run_self_check(container, settings_dir=workdir, say=_say)

    results = run(go())
    table = Table("check", "result", "what it proved", title="engine self-check")
    for result in results:
        table.add_row(
            result.name, "[green]ok[/green]" if result.ok else "[red]FAILED[/red]", result.detail
        )
    console.print(table)
    failed = [r for r in results if not r.ok]
    if failed:
        console.print(f"[red]{len(failed)} check(s) failed[/red]")
        raise typer.Exit(1)
    console.print(
        f"[green]all {len(results)} checks passed[/green]; database and logs in {workdir}/"
    )


def _say(message: str) -> None:
    console.print(f"  [dim]-[/dim] {message}")


__all__ = ["Container", "demo"]
