"""``payledger bench``: measured figures, printed as a table."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from payledger.bench.billing import BillingBenchOptions, BillingBenchResult, run_billing_bench
from payledger.bench.chaos import ChaosResult, run_chaos
from payledger.bench.e2e import (
    LATENCY_MODEL,
    E2EOptions,
    E2EPhase,
    E2EResult,
    mean_service_ms,
    run_e2e,
)
from payledger.bench.postgres import PostgresCluster, find_server_binaries, start_cluster
from payledger.bench.queue import QueueBenchResult, bench_queue
from payledger.bench.reconcile import bench_reconcile
from payledger.cli import bench_ingest
from payledger.cli.common import console, run, setup_logging
from payledger.config import LoggingSettings, Settings
from payledger.mapping import TemplateError, bench_mapping

if TYPE_CHECKING:
    from payledger.bench.risk import RiskBenchResult

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


@app.command("chaos")
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


@app.command("billing")
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


@app.command("e2e")
def e2e(
    payments: Annotated[
        int, typer.Option(help="Events recorded at once for the throughput run.", min=1)
    ] = 5_000,
    naive: Annotated[
        int, typer.Option(help="Payments written one request each, sequentially.", min=1)
    ] = 200,
    rate: Annotated[
        float, typer.Option(help="Events per second of the latency run.", min=0.1)
    ] = 100.0,
    seconds: Annotated[float, typer.Option(help="Length of the latency run.", min=0.1)] = 20.0,
    max_lines: Annotated[
        int, typer.Option(help="[posting] max_lines: lines per $batch request.", min=1, max=1000)
    ] = 100,
    max_wait_ms: Annotated[
        int, typer.Option(help="[posting] max_wait_ms: how long owed lines gather.", min=0)
    ] = 500,
    parallel: Annotated[
        int,
        typer.Option(
            help="[posting] parallel_requests (default: the model's capacity, so every slot "
            "can be busy).",
            min=1,
        ),
    ] = LATENCY_MODEL.capacity,
    postgres_url: Annotated[
        str | None, typer.Option(help="An empty PostgreSQL database (else SQLite in a temp dir).")
    ] = None,
    tracing: Annotated[
        bool,
        typer.Option(
            "--tracing",
            help="Trace the run (OpenTelemetry SDK, spans scrubbed and counted, not sent): "
            "compare with a run without it for tracing's cost.",
        ),
    ] = False,
) -> None:
    """Payments posted to the D365 sandbox per second, requests per payment and latency.

    The D365 sandbox runs in its own process under the latency model of ``realistic_faults()``:
    each request holds one of C slots for latency + U(0, jitter) + per_operation x n ms (n
    operations inside it). Mean service time t(n) = latency + jitter/2 + per_operation x n, so
    the model's ceiling is C x n / t(n) payments/s at max_lines n (1,250/s for 16 slots,
    60 + 20 + 12 x 100 = 1,280 ms). Three runs: naive (one POST per payment, sequential);
    throughput (--payments events recorded at once, timed from the first record to the last
    line posted); latency (--rate events/s for --seconds, each event's received-to-posted
    time). The naive run goes first and, like a long-running worker, leaves the connector's
    adaptive in-flight limit warm. Exit 1 if any payment was not posted.
    """
    options = E2EOptions(
        payments=payments,
        naive=naive,
        rate=rate,
        seconds=seconds,
        max_lines=max_lines,
        max_wait_ms=max_wait_ms,
        parallel=parallel,
        postgres_url=postgres_url,
        tracing=tracing,
    )
    with tempfile.TemporaryDirectory(prefix="payledger-e2e-") as tmp:
        workdir = Path(tmp)
        setup_logging(
            Settings(logging=LoggingSettings(file=workdir / "payledger.log", level="WARNING")),
            stderr=False,
        )
        result = run(run_e2e(workdir, options))
    console.print(_e2e_table(result))
    if not result.all_posted:
        console.print("[red]not every payment was posted[/red]")
        raise typer.Exit(1)


Row = tuple[str, str, str, bool | None]
"""A figure, what was measured, its goal ("" for none) and whether the goal was met."""


def _e2e_table(r: E2EResult) -> Table:
    o, m = r.options, LATENCY_MODEL
    table = Table(
        "figure",
        "measured",
        "goal",
        "",
        title=f"payledger bench e2e ({r.backend}, {o.workers} workers x {o.concurrency}, "
        f"max_lines {o.max_lines}, max_wait_ms {o.max_wait_ms}, parallel {o.parallel})",
        caption=f"latency model: C = {m.capacity} slots, each request {m.latency_ms:g} + "
        f"U(0, {m.jitter_ms:g}) + {m.per_operation_ms:g}·n ms; ceiling = C·n / t(n), "
        f"t(n) = {m.latency_ms:g} + {m.jitter_ms / 2:g} + {m.per_operation_ms:g}·n = "
        f"{mean_service_ms(m, o.max_lines):,.0f} ms at n = {o.max_lines} "
        f"→ {r.ceiling:,.0f} payments/s",
    )
    for label, measured, goal, met in [*_throughput_rows(r), *_latency_rows(r), *_run_rows(r)]:
        verdict = "" if met is None else "[green]met[/green]" if met else "[red]missed[/red]"
        table.add_row(label, measured, goal or "—", verdict)
    return table


def _throughput_rows(r: E2EResult) -> list[Row]:
    t = r.throughput
    vs_ceiling = t.per_second / r.ceiling
    vs_naive = t.per_second / r.naive.per_second if r.naive.per_second else float("inf")
    return [
        (f"payments posted/s ({t.events:,} events at once)", f"{t.per_second:,.0f}", "", None),
        (
            f"  vs model ceiling ({r.ceiling:,.0f}/s)",
            f"{vs_ceiling:.1%}",
            "≥ 90%",
            vs_ceiling >= 0.9,
        ),
        (
            f"  vs naive ({r.naive.per_second:,.1f}/s: 1 request per payment, sequential)",
            f"{vs_naive:,.1f}x",
            "≥ 30x",
            vs_naive >= 30,
        ),
        (
            "  all events processed / all lines posted after",
            f"{t.processing_seconds:.1f} s / {t.seconds:.1f} s",
            "",
            None,
        ),
        _requests_row(f"D365 requests/payment ({t.events:,} at once)", t),
    ]


def _latency_rows(r: E2EResult) -> list[Row]:
    s, rate = r.latency, f"{r.options.rate:g}/s"
    p99 = s.percentile(0.99)
    fed = s.events / s.seconds if s.seconds else math.inf
    return [
        (
            f"events fed in the latency run (target {rate})",
            f"{fed:,.0f}/s for {s.seconds:.1f} s",
            "",
            None,
        ),
        _requests_row(f"D365 requests/payment (steady load, {rate})", s),
        (f"p50 event→D365 latency at {rate}", f"{s.percentile(0.5):.2f} s", "", None),
        (f"p99 event→D365 latency at {rate}", f"{p99:.2f} s", "< 2 s", p99 < 2),
        (f"max event→D365 latency at {rate}", f"{s.percentile(1.0):.2f} s", "", None),
    ]


def _run_rows(r: E2EResult) -> list[Row]:
    n, t, s = r.naive, r.throughput, r.latency
    return [
        (
            "payments posted (naive / at once / steady)",
            f"{n.posted:,}/{n.events:,} · {t.posted:,}/{t.events:,} · {s.posted:,}/{s.events:,}",
            "all",
            r.all_posted,
        ),
        (
            "payledger process CPU (at-once run)",
            f"{t.cpu_seconds / t.posted * 1000 if t.posted else math.inf:.1f} ms per payment, "
            f"{t.cpu_seconds / t.seconds:.0%} of one core",
            "",
            None,
        ),
        (
            "D365 connector in-flight limit before → after at-once run",
            "{:.1f} → {:.1f}".format(*r.concurrency_limit),
            "",
            None,
        ),
        ("peak RSS (payledger process)", f"{r.peak_rss_mb:,.0f} MB", "", None),
        (
            "tracing",
            "off" if r.spans is None else f"on: {r.spans:,} spans exported",
            "",
            None,
        ),
    ]


def _requests_row(label: str, phase: E2EPhase) -> Row:
    rpp = phase.requests_per_payment
    return label, f"{rpp:.4f} ({phase.requests:,} requests)", "≤ 0.02", rpp <= 0.02


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


@app.command("risk")
def risk(
    customers: Annotated[int, typer.Option(help="Customers per generated history.", min=20)] = 1500,
    days: Annotated[int, typer.Option(help="Days of history.", min=10)] = 120,
    warmup_days: Annotated[
        int, typer.Option(help="First days only build history: not counted, no attacks.", min=1)
    ] = 30,
    train_seed: Annotated[int, typer.Option(help="Seed of the history trained on.")] = 1,
    test_seed: Annotated[int, typer.Option(help="Seed of the history scored.")] = 2,
    train_rows: Annotated[
        int, typer.Option(help="Also time training on this many generated events (0: skip).")
    ] = 0,
    model_weight: Annotated[
        float, typer.Option(help="[risk.model] weight (0: the rules alone).", min=0, max=1)
    ] = 0.6,
) -> None:
    """Risk screening on a labelled synthetic history: trains the anomaly model on one seed,
    scores every event of another at the default thresholds (flagged = not allow) and prints
    precision, recall and F1 per attack pattern and overall, training time and per-event
    scoring latency. Targets: recall >= 0.90 at precision >= 0.80; p99 < 5 ms; 1M rows
    trained in < 60 s."""
    from payledger.bench.risk import RiskBenchOptions, run_risk_bench

    options = RiskBenchOptions(
        customers, days, warmup_days, train_seed, test_seed, train_rows, model_weight
    )
    result = run_risk_bench(options)
    for table in _risk_tables(result):
        console.print(table)


def _risk_tables(r: RiskBenchResult) -> list[Table]:
    o = r.options
    quality = Table(
        "pattern",
        "events",
        "caught",
        "false positives",
        "precision",
        "recall",
        "F1",
        title=f"payledger bench risk: trained on seed {o.train_seed}, scored seed {o.test_seed} "
        f"({r.scored:,} events after a {o.warmup_days}-day warm-up)",
        caption="false positives are charged to the pattern of their strongest reason; "
        "those whose strongest reason is the model count in overall only",
    )
    for name, t in [*r.per_pattern.items(), ("overall", r.overall)]:
        quality.add_row(
            name,
            f"{t.labelled:,}",
            f"{t.caught:,}",
            f"{t.false_positives:,}",
            f"{t.precision:.3f}",
            f"{t.recall:.3f}",
            f"{t.f1:.3f}",
        )
    figures = Table("figure", "measured", "goal", title="model and speed")
    goal_met = r.overall.recall >= 0.9 and r.overall.precision >= 0.8
    figures.add_row(
        "overall recall / precision",
        f"{r.overall.recall:.3f} / {r.overall.precision:.3f}",
        f"≥ 0.90 / ≥ 0.80: {'met' if goal_met else 'MISSED'}",
    )
    figures.add_row("model", r.model_version or f"none: {r.model_problem}", "")
    figures.add_row(f"training on {r.train_events:,} events", f"{r.train_seconds:.1f} s", "")
    if r.big_train_rows:
        figures.add_row(
            f"training on {r.big_train_rows:,} events",
            f"{r.big_train_seconds:.1f} s",
            f"< 60 s: {'met' if r.big_train_seconds < 60 else 'MISSED'}",
        )
    cpu99 = r.latency(0.99, cpu=True)
    figures.add_row(
        "scoring CPU per event p50 / p99 (one core)",
        f"{r.latency(0.5, cpu=True):.2f} / {cpu99:.2f} ms",
        f"p99 < 5 ms: {'met' if cpu99 < 5 else 'MISSED'}",
    )
    figures.add_row(
        "scoring wall clock per event p50 / p99",
        f"{r.latency(0.5):.2f} / {r.latency(0.99):.2f} ms",
        f"load average {os.getloadavg()[0]:.1f}",
    )
    top = ", ".join(f"{code} {n}" for code, n in sorted(r.reasons.items(), key=lambda x: -x[1]))
    figures.add_row("strongest reason of flagged events", top or "-", "")
    return [quality, figures]
