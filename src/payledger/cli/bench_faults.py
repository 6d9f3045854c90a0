"""``payledger bench chaos`` and ``bench billing``: exactly once through faults and killed
workers, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from payledger.bench.billing import BillingBenchOptions, BillingBenchResult, run_billing_bench
from payledger.bench.chaos import ChaosResult, run_chaos
from payledger.bench.postgres import PostgresCluster, find_server_binaries, start_cluster
from payledger.cli.common import console, run


def chaos(
    payments: Annotated[int, typer.Option(help="Payments per backend.")] = 10_000,
    sqlite_workers: Annotated[int, typer.Option(help="Worker processes on SQLite.")] = 3,
    chaos_postgres_workers: Annotated[
        int, typer.Option("--postgres-workers", help="Worker processes on PostgreSQL.")
    ] = 3,
    kills: Annotated[int, typer.Option(help="Workers SIGKILLed during the run.")] = 3,
    backend: Annotated[
        list[str] | None, typer.Option(help="sqlite and/or postgres (default both).")
    ] = None,
    postgres_url: Annotated[str | None, typer.Option(help="Use this PostgreSQL database.")] = None,
    keep: Annotated[
        Path | None,
        typer.Option(
            help="Keep each backend's database, log and D365 lines (d365-lines.json) under this "
            "new folder, for a post-mortem."
        ),
    ] = None,
) -> None:
    """Payments through 10% 429, 5% 5xx, 2% commit-then-timeout, 1-5 deliveries each and killed
    workers: prove 0 lost, 0 duplicated and equal totals per kind. Exit 1 if not."""
    chosen = backend or ["sqlite", "postgres"]

    def one(name: str, workdir: Path, url: str) -> ChaosResult:
        count = sqlite_workers if name == "sqlite" else chaos_postgres_workers
        return run(run_chaos(workdir, url, name, payments=payments, workers=count, kills=kills))

    results, broken = _on_each_backend(chosen, "chaos", keep, postgres_url, one)
    for result in results:
        verdict = "ok" if result.ok else "FAILED"
        console.print(f"{result.backend}: {verdict} in {result.seconds:.0f} s", highlight=False)
        for label, references in (("lost", result.lost), ("duplicated", result.duplicated)):
            if references:
                shown = ", ".join(references[:10])
                console.print(f"  {label}: {shown}{' ...' if len(references) > 10 else ''}")
    table = Table("", *(r.backend for r in results), title="payledger chaos")
    rows: dict[str, Callable[[ChaosResult], str]] = {
        "payments": lambda r: f"{r.payments:,}",
        "deliveries (1-5 each, shuffled)": lambda r: f"{r.deliveries:,}",
        "worker processes": lambda r: str(r.workers),
        "worker processes killed": lambda r: str(r.kills),
        "lost": lambda r: str(len(r.lost)),
        "duplicated D365 lines": lambda r: str(len(r.duplicated)),
        "sales: PayTrace / D365": lambda r: "{:,} / {:,}".format(*r.totals["sale"]),
        "refunds: PayTrace / D365": lambda r: "{:,} / {:,}".format(*r.totals["refund"]),
        "D365 requests / throttled / 5xx / dropped": lambda r: "{} / {} / {} / {}".format(
            r.fault_counts.get("requests", 0),
            r.fault_counts.get("rate_limited", 0),
            r.fault_counts.get("errors", 0),
            r.fault_counts.get("dropped_after_commit", 0),
        ),
        "seconds": lambda r: f"{r.seconds:.0f}",
        "verdict": lambda r: "[green]ok[/green]" if r.ok else "[red]FAILED[/red]",
    }
    for label, cell in rows.items():
        table.add_row(label, *(cell(r) for r in results))
    console.print(table)
    if broken or not all(r.ok for r in results):
        raise typer.Exit(1)


R = TypeVar("R")


def _on_each_backend(
    chosen: Sequence[str],
    bench: str,
    keep: Path | None,
    postgres_url: str | None,
    one: Callable[[str, Path, str], R],
) -> tuple[list[R], list[str]]:
    """Run ``one`` on each chosen backend in its own folder (a throwaway PostgreSQL cluster
    when none is given); returns the results and the backends whose run failed, so one
    backend's failure does not hide the other's figures."""
    results: list[R] = []
    broken: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"payledger-{bench}-") as tmp:
        for name in chosen:
            workdir = (keep or Path(tmp)) / name
            workdir.mkdir(parents=True)
            url, cluster = _database_for(name, workdir, postgres_url)
            try:
                results.append(one(name, workdir, url))
            except Exception as exc:
                console.print(f"[red]{name}: the run failed: {type(exc).__name__}: {exc}[/red]")
                broken.append(name)
            finally:
                if cluster is not None:
                    cluster.stop()
    return results, broken


def _database_for(
    name: str, workdir: Path, postgres_url: str | None
) -> tuple[str, PostgresCluster | None]:
    if name == "sqlite":
        return f"sqlite:///{workdir / 'payledger.db'}", None
    if postgres_url:
        return postgres_url, None
    if find_server_binaries() is None:
        raise typer.BadParameter(
            "PostgreSQL is not installed; give --postgres-url or --backend sqlite"
        )
    cluster = start_cluster(workdir / "pg", durable=True)
    cluster.psql("CREATE DATABASE chaos")
    return cluster.url("chaos"), cluster


class Database(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"
    BOTH = "both"


def billing(
    subscriptions: Annotated[
        int, typer.Option(help="Subscriptions, all due in the same minute.", min=1)
    ] = 10_000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 2,
    database: Annotated[
        Database, typer.Option(help="Which database(s) to bill on.")
    ] = Database.BOTH,
    chaos: Annotated[
        bool, typer.Option("--chaos", help="Also SIGKILL worker processes during the run.")
    ] = False,
    kills: Annotated[int, typer.Option(help="Workers SIGKILLed in a --chaos run.", min=1)] = 3,
    max_per_run: Annotated[int, typer.Option(help="Periods one billing run claims.", min=1)] = 200,
    concurrency: Annotated[
        int, typer.Option(help="Periods one billing run bills at once.", min=1)
    ] = 16,
    lease_seconds: Annotated[
        float,
        typer.Option(
            help="How long a run's claim holds a period; a killed worker's periods wait this "
            "long. Keep it above a run's length.",
            min=1,
        ),
    ] = 60.0,
    hold_seconds: Annotated[
        float,
        typer.Option(
            help="How long a charge holds its invoice (production: 300); a killed worker's "
            "charges in flight keep their invoices held this long.",
            min=1,
        ),
    ] = 300.0,
    faults: Annotated[
        bool, typer.Option(help="The fault model at both sandboxes (--no-faults: none).")
    ] = True,
    postgres_url: Annotated[
        str | None, typer.Option(help="An empty PostgreSQL database (else a throwaway cluster).")
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep each database's files and logs under this new folder."),
    ] = None,
) -> None:
    """Bill N subscriptions due at once against both sandboxes through D365 429s, 5xx and
    lost answers and PayTrace faults: seconds until every period is invoiced, charged and its
    payment posted in D365, requests per subscription, and duplicates and missed periods as
    the sandboxes hold them (both must be 0). Exit 1 if not."""
    options = BillingBenchOptions(
        subscriptions=subscriptions,
        workers=workers,
        chaos=chaos,
        kills=kills,
        faults=faults,
        max_per_run=max_per_run,
        concurrency=concurrency,
        lease_seconds=lease_seconds,
        hold_seconds=hold_seconds,
    )
    chosen = ["sqlite", "postgres"] if database == "both" else [str(database)]
    results, broken = _on_each_backend(
        chosen,
        "billing",
        keep,
        postgres_url,
        lambda name, workdir, url: run(run_billing_bench(workdir, url, name, options)),
    )
    for result in results:
        _print_doubles(result)
    console.print(_billing_table(results, options))
    if broken or not all(r.ok for r in results):
        raise typer.Exit(1)


def _print_doubles(result: BillingBenchResult) -> None:
    p = result.proof
    if result.gave_up:
        console.print(f"  [red]{result.backend}: gave up waiting: {result.gave_up}[/red]")
    for label, keys in (
        ("invoiced twice", p.doubled_invoices),
        ("charged twice", p.doubled_charges),
        ("posted twice", p.doubled_payments),
        ("missed", p.missed),
    ):
        if keys:
            shown = ", ".join(keys[:10])
            console.print(f"  {result.backend} {label}: {shown}{' ...' if len(keys) > 10 else ''}")


def _billing_table(results: list[BillingBenchResult], o: BillingBenchOptions) -> Table:
    mode = "faults + killed workers" if o.chaos else "faults" if o.faults else "no faults"
    table = Table(
        "",
        *(r.backend for r in results),
        title=f"payledger bench billing ({mode}; {o.workers} worker processes, runs of "
        f"{o.max_per_run} x {o.concurrency} at once)",
    )
    rows: dict[str, Callable[[BillingBenchResult], str]] = {
        "subscriptions (one period each, due at once)": lambda r: f"{r.proof.periods:,}",
        "seconds until all invoiced, charged, posted": lambda r: (
            f"{r.seconds:.1f}" + (" [red](gave up)[/red]" if r.gave_up else "")
        ),
        "periods per second": lambda r: f"{r.proof.periods / r.seconds:,.1f}" if r.seconds else "-",
        "invoiced / charged / posted in D365": lambda r: (
            f"{r.proof.invoiced:,} / {r.proof.charged:,} / {r.proof.posted:,}"
        ),
        "D365 requests per subscription": lambda r: (
            f"{r.per_subscription(r.d365_requests):.2f} ({r.d365_requests:,})"
        ),
        "PayTrace requests per subscription": lambda r: (
            f"{r.per_subscription(r.paytrace_requests):.2f} ({r.paytrace_requests:,})"
        ),
        "D365 throttled / 5xx / dropped": lambda r: _faults(r.d365_faults),
        "PayTrace throttled / 5xx / dropped": lambda r: _faults(r.paytrace_faults),
        "billing runs": lambda r: f"{r.billing_runs:,}",
        "worker processes killed": lambda r: str(r.kills),
        "invoices per period > 1": lambda r: str(len(r.proof.doubled_invoices)),
        "charges per period > 1": lambda r: str(len(r.proof.doubled_charges)),
        "payments per period > 1": lambda r: str(len(r.proof.doubled_payments)),
        "missed periods": lambda r: str(len(r.proof.missed)),
        "verdict": lambda r: "[green]ok[/green]" if r.ok else "[red]FAILED[/red]",
    }
    for label, cell in rows.items():
        table.add_row(label, *(cell(r) for r in results))
    return table


def _faults(counts: dict[str, int]) -> str:
    return "{} / {} / {}".format(
        counts.get("rate_limited", 0),
        counts.get("errors", 0),
        counts.get("dropped_after_commit", 0),
    )
