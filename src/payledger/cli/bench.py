"""``payledger bench``: measured figures, printed as a table."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.bench.postgres import find_server_binaries, start_cluster
from payledger.bench.queue import QueueBenchResult, bench_queue
from payledger.bench.reconcile import bench_reconcile
from payledger.cli import bench_e2e, bench_faults, bench_ingest, bench_risk
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


app.command("ingest")(bench_ingest.ingest)


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


@app.command("suggest")
def suggest(
    documents: Annotated[int, typer.Option(help="Sample source documents per entity.", min=1)] = 40,
    entity: Annotated[
        list[str] | None,
        typer.Option("--entity", help="Score only this labelled entity (repeatable)."),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Mapping suggestions against a labelled set, leave-one-template-out: top-1 and top-3
    accuracy and the time per target field."""
    from payledger.bench.suggest import run_suggest_bench

    if output not in ("table", "json"):
        raise typer.BadParameter("must be table or json", param_hint="--format")
    try:
        result = run_suggest_bench(documents, tuple(entity or ()))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--entity") from None
    if output == "json":
        console.out(json.dumps(result.as_dict(), indent=2), highlight=False)
        return
    table = Table("entity", "fields", "top-1", "top-3", title="payledger bench suggest")
    for e in result.entities:
        table.add_row(e.entity, str(e.fields), _share(e.top1, e.fields), _share(e.top3, e.fields))
    table.add_row("all", str(result.fields), f"{result.top1:.0%}", f"{result.top3:.0%}")
    console.print(table)
    console.print(
        f"time per target field: mean {result.mean_ms:.2f} ms, p99 {result.p99_ms:.2f} ms "
        f"({documents} sample documents per entity)"
    )
    for miss in result.misses:
        console.print(
            f"[dim]not first: {miss.entity} {miss.target}: expected "
            f"{' | '.join(miss.expected)}; ranked {', '.join(miss.ranked)}[/dim]"
        )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


app.command("chaos")(bench_faults.chaos)
app.command("billing")(bench_faults.billing)
app.command("e2e")(bench_e2e.e2e)


@app.command("reconcile")
def reconcile(
    transactions: Annotated[
        int, typer.Option(help="PayTrace transactions (and about as many D365 lines).", min=100)
    ] = 1_000_000,
    rate: Annotated[
        float, typer.Option(help="Share seeded as discrepancies, spread over every class.")
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 42,
) -> None:
    """Match N PayTrace transactions against N D365 lines (data already fetched): seconds,
    peak RSS, and every seeded discrepancy found vs seeded per class, with false ones.
    Exit 1 unless every seeded discrepancy is found and nothing else."""
    result = bench_reconcile(transactions, rate=rate, seed=seed)
    summary = Table("", "value", title="payledger bench reconcile (data already fetched)")
    summary.add_row(
        "PayTrace transactions / D365 lines", f"{result.transactions:,} / {result.lines:,}"
    )
    summary.add_row(
        "match s / report s (wall)", f"{result.match_seconds:.2f} / {result.report_seconds:.2f}"
    )
    summary.add_row(
        "match s / report s (CPU)",
        f"{result.match_cpu_seconds:.2f} / {result.report_cpu_seconds:.2f}",
    )
    summary.add_row(
        "match + report s (wall / CPU)", f"{result.seconds:.2f} / {result.cpu_seconds:.2f}"
    )
    summary.add_row(
        "load average before / after (2 cores)", "{:.1f} / {:.1f}".format(*result.load_average)
    )
    summary.add_row("peak RSS MB (whole process)", f"{result.peak_rss_mb:,.1f}")
    summary.add_row("data generation s (not timed)", f"{result.generate_seconds:.1f}")
    summary.add_row("matched (expected)", f"{result.matched:,} ({result.expected_matched:,})")
    summary.add_row("exceptions (seeded)", f"{result.exceptions:,} ({result.seeded_exceptions:,})")
    console.print(summary)
    table = Table("class", "seeded", "found", "missed", "false", title="discrepancies")
    for kind, seeded in result.seeded.items():
        table.add_row(
            kind,
            f"{seeded:,}",
            f"{result.found[kind]:,}",
            str(result.missed[kind]),
            str(result.false_positives[kind]),
        )
    table.add_row("matched", "-", "-", "-", str(result.false_positives["matched"]))
    console.print(table)
    if not result.exact:
        raise typer.Exit(1)


@app.command("pan")
def pan(
    per_category: Annotated[
        int, typer.Option(help="Generated non-card items per category.", min=1)
    ] = 2_000,
    seed: Annotated[int, typer.Option(help="Seed of the generated corpus and log lines.")] = 2026,
    lines: Annotated[int, typer.Option(help="Log lines per timed pass.", min=1)] = 5_000,
) -> None:
    """The card detector's false-positive rate on realistic non-card data (UUIDs, timestamps,
    phone numbers, references, IBANs, amounts, IPs, ids...), per category and overall, and its
    speed: redactions/s on typical log lines, on text without digits and on lines with a card."""
    from rich.text import Text

    from payledger.bench.card_detector import bench_card_detector

    result = bench_card_detector(per_category, seed=seed, lines=lines)
    rates = Table(
        "category",
        "items",
        "flagged",
        "rate",
        "e.g.",
        title=f"payledger bench pan: false positives (seed {seed})",
    )
    for c in result.categories:
        example = Text(c.flagged[0] if c.flagged else "", overflow="fold")
        rates.add_row(c.category, f"{c.items:,}", f"{len(c.flagged):,}", f"{c.rate:.2%}", example)
    flagged = sum(len(c.flagged) for c in result.categories)
    rates.add_row("overall", f"{result.items:,}", f"{flagged:,}", f"{result.rate:.2%}", "")
    console.print(rates)
    speeds = Table(
        "text", "mean chars", "redactions/s", title="redact_card_numbers (one core, best of 3)"
    )
    for s in result.speeds:
        speeds.add_row(s.text, f"{s.mean_chars:,.0f}", f"{s.per_second:,.0f}")
    console.print(speeds)


@app.command("startup")
def startup(
    runs: Annotated[int, typer.Option(help="Fresh processes per command; medians.", min=1)] = 5,
) -> None:
    """CPU seconds and peak RSS of `payledger --help` and `payledger status --help`, each in a
    fresh process (target: at most 0.5 s of CPU for `--help`)."""
    from payledger.bench.startup import COMMANDS, measure

    table = Table("command", "runs", "CPU s (median)", "wall s", "peak RSS MiB")
    for args in COMMANDS:
        figure = measure(args, runs)
        table.add_row(
            "payledger " + " ".join(args),
            str(figure.runs),
            f"{figure.cpu_seconds:.3f}",
            f"{figure.wall_seconds:.3f}",
            f"{figure.peak_rss_mib:.1f}",
        )
    console.print(table)


app.command("risk")(bench_risk.risk)
