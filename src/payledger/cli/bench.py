"""``payledger bench``: measured figures, printed as a table."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.bench.postgres import find_server_binaries, start_cluster
from payledger.bench.queue import QueueBenchResult, bench_queue
from payledger.cli.common import console, run
from payledger.mapping import TemplateError, bench_mapping

app = typer.Typer(
    help="Benchmarks (figures for the closing note; not tests).", no_args_is_help=True
)


@app.command("queue")
def queue(
    jobs: Annotated[int, typer.Option(help="Jobs per backend.")] = 20_000,
    sqlite_workers: Annotated[int, typer.Option(help="Worker processes on SQLite.")] = 1,
    postgres_workers: Annotated[int, typer.Option(help="Worker processes on PostgreSQL.")] = 4,
    postgres_url: Annotated[
        str | None,
        typer.Option(
            help="Use this PostgreSQL database (else a throwaway cluster when installed)."
        ),
    ] = None,
) -> None:
    """Enqueue and claim+complete jobs/s on SQLite and PostgreSQL, with peak RSS."""
    results: list[QueueBenchResult] = []
    with tempfile.TemporaryDirectory(prefix="payledger-bench-") as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        results.append(
            run(bench_queue(sqlite_url, "sqlite", jobs_count=jobs, workers=sqlite_workers))
        )
        cluster = None
        if postgres_url is None and find_server_binaries() is not None:
            cluster = start_cluster(Path(tmp) / "pg", durable=True)
            cluster.psql("CREATE DATABASE bench")
            postgres_url = cluster.url("bench")
        try:
            if postgres_url:
                results.append(
                    run(
                        bench_queue(
                            postgres_url, "postgresql", jobs_count=jobs, workers=postgres_workers
                        )
                    )
                )
            else:
                console.print(
                    "[yellow]PostgreSQL not installed: PostgreSQL figures skipped[/yellow]"
                )
        finally:
            if cluster is not None:
                cluster.stop()
    table = Table(
        "backend",
        "workers",
        "jobs",
        "enqueue/s",
        "claim+complete/s",
        "worker RSS MB",
        "parent RSS MB",
        title="payledger bench queue (durable commits)",
    )
    for r in results:
        table.add_row(
            r.backend,
            str(r.workers),
            f"{r.jobs:,}",
            f"{r.enqueue_per_second:,.0f}",
            f"{r.complete_per_second:,.0f}",
            f"{r.worker_peak_rss_mb}",
            f"{r.parent_peak_rss_mb}",
        )
    console.print(table)


@app.command("mapping")
def mapping(
    n: Annotated[int, typer.Option("--n", help="Mappings per timed run.", min=1)] = 20_000,
    template: Annotated[
        str, typer.Option(help="Default template to run.")
    ] = "d365_payment_journal_line",
    include_document: Annotated[
        bool,
        typer.Option(
            "--include-document", help="Also build each source document from a domain Payment."
        ),
    ] = False,
    repeat: Annotated[int, typer.Option(help="Timed runs; the fastest counts.", min=1)] = 3,
) -> None:
    """Payment lines mapped per second on one core (CPU time), and the wall-clock rate."""
    try:
        result = bench_mapping(
            n, template=template, include_document=include_document, repeat=repeat
        )
    except TemplateError as exc:
        raise typer.BadParameter(str(exc), param_hint="--template") from None
    wall_rate = result.mappings / result.wall_seconds if result.wall_seconds else float("inf")
    table = Table(
        "template",
        "work",
        "mappings",
        "CPU s",
        "mappings/s per core (CPU)",
        "wall s",
        "mappings/s (wall)",
        title=f"payledger bench mapping (best of {repeat})",
    )
    table.add_row(
        result.template,
        "payment → document → payload" if include_document else "document → payload",
        f"{result.mappings:,}",
        f"{result.seconds:.3f}",
        f"{result.per_second:,.0f}",
        f"{result.wall_seconds:.3f}",
        f"{wall_rate:,.0f}",
    )
    console.print(table)
