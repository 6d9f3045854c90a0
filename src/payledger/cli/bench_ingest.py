"""``payledger bench ingest``: webhook receipts per second vs a no-op, latency at a rate, and the
fetch jobs that turn the stored hints into payments."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.bench.ingest import (
    NOOP,
    WEBHOOK,
    IngestOptions,
    IngestResult,
    run_ingest,
    seed_sales,
)
from payledger.bench.postgres import PostgresCluster, find_server_binaries, start_cluster
from payledger.bench.sandbox_process import paytrace_sandbox_process
from payledger.cli.common import console, run, setup_logging
from payledger.config import LoggingSettings, Settings

THROUGHPUT_GOAL = 0.5
LATENCY_GOAL_S = 1.0


def ingest(
    requests: Annotated[
        int, typer.Option(help="Requests per endpoint in each throughput round.", min=1)
    ] = 1000,
    rounds: Annotated[int, typer.Option(help="Alternating no-op/webhook rounds.", min=1)] = 3,
    connections: Annotated[
        int, typer.Option(help="Keep-alive connections of the throughput rounds.", min=1)
    ] = 32,
    rate: Annotated[float, typer.Option(help="Webhooks per second of the latency run.")] = 200.0,
    seconds: Annotated[float, typer.Option(help="Length of the latency run.", min=0.1)] = 15.0,
    backend: Annotated[
        list[str] | None, typer.Option(help="sqlite and/or postgres (default both).")
    ] = None,
    postgres_url: Annotated[
        str | None, typer.Option(help="Use this PostgreSQL database (else a throwaway cluster).")
    ] = None,
) -> None:
    """Durable webhook receipts per second vs a no-op endpoint on the same server stack,
    acknowledgement latency at a steady rate, then the fetch jobs that turn every stored hint
    into a payment from the PayTrace sandbox; on SQLite and PostgreSQL."""
    options = IngestOptions(requests, rounds, connections, rate, seconds)
    chosen = backend or ["sqlite", "postgres"]
    results: list[IngestResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="payledger-ingest-") as tmp,
        paytrace_sandbox_process(Path(tmp)) as paytrace_url,
    ):
        # The fetch jobs run in this process: their log goes to a file, not over the table
        logging = LoggingSettings(file=Path(tmp) / "bench.log", level="WARNING")
        setup_logging(Settings(logging=logging), stderr=False)
        console.print(f"seeding {options.transactions:,} sales at the PayTrace sandbox ...")
        transactions = run(seed_sales(paytrace_url, options.transactions))
        for name in chosen:
            workdir = Path(tmp) / name
            workdir.mkdir()
            url, cluster = _database(name, workdir, postgres_url)
            try:
                console.print(f"{name}: throughput rounds, then {rate:g} webhooks/s ...")
                measured = run_ingest(
                    workdir,
                    url,
                    name,
                    paytrace_url=paytrace_url,
                    transactions=transactions,
                    options=options,
                )
                results.append(run(measured))
            finally:
                if cluster is not None:
                    cluster.stop()
    console.print(_table(results, options))


def _database(name: str, workdir: Path, given: str | None) -> tuple[str, PostgresCluster | None]:
    if name == "sqlite":
        return f"sqlite:///{workdir / 'payledger.db'}", None
    if name != "postgres":
        raise typer.BadParameter("sqlite or postgres", param_hint="--backend")
    if given:
        return given, None
    if find_server_binaries() is None:
        raise typer.BadParameter("PostgreSQL is not installed; give --postgres-url")
    cluster = start_cluster(workdir / "pg", durable=True)
    cluster.psql("CREATE DATABASE ingest")
    return cluster.url("ingest"), cluster


def _goal(met: bool) -> str:
    return "[green]met[/green]" if met else "[red]missed[/red]"


def _table(results: list[IngestResult], options: IngestOptions) -> Table:
    table = Table("", *(r.backend for r in results), title="payledger bench ingest")
    rows: dict[str, Callable[[IngestResult], str]] = {
        f"no-op endpoint, requests/s ({options.connections} connections)": lambda r: (
            f"{r.noop.per_second:,.0f}"
        ),
        "webhook receipts/s (2xx = hint committed)": lambda r: f"{r.webhook.per_second:,.0f}",
        f"webhook / no-op (goal >= {THROUGHPUT_GOAL:.0%})": lambda r: (
            f"{r.ratio(r.webhook):.0%} {_goal(r.ratio(r.webhook) >= THROUGHPUT_GOAL)}"
        ),
        "server CPU ms/request: no-op / webhook": lambda r: (
            f"{r.cpu_ms[NOOP]:.2f} / {r.cpu_ms[WEBHOOK]:.2f}"
        ),
        f"at {options.rate:g} webhooks/s: achieved rate": lambda r: (
            f"{r.latency.per_second:,.1f}/s"
        ),
        "  ack latency p50 / p99 / max, ms": lambda r: "{:.1f} / {:.1f} / {:.1f}".format(
            *(1000 * r.latency.percentile(p) for p in (50, 99, 100))
        ),
        f"  p99 < {LATENCY_GOAL_S:g} s": lambda r: _goal(r.latency.percentile(99) < LATENCY_GOAL_S),
        "webhook 2xx / hint rows / delivery ids": lambda r: (
            f"{r.acknowledged:,} / {r.hint_rows:,} / {r.delivery_records:,}"
        ),
        "non-2xx answers": lambda r: str(
            sum(run.count(lambda s: not 200 <= s < 300) for run in (r.noop, *r.webhook_runs))
        ),
        "then the fetch jobs: payments fetched, s": lambda r: (
            f"{r.fetches.payments:,}, {r.fetches.seconds:.1f} s"
        ),
        "  hints processed / parked / jobs not done": lambda r: (
            f"{r.fetches.hints_processed:,} / {r.fetches.hints_parked:,} / {r.fetches.jobs_left:,}"
        ),
    }
    for label, cell in rows.items():
        table.add_row(label, *(cell(r) for r in results))
    return table
