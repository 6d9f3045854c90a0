"""``payledger bench e2e``: payments posted per second against the D365 latency model, and the
latency at a steady rate."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.bench.e2e import (
    LATENCY_MODEL,
    E2EOptions,
    E2EPhase,
    E2EResult,
    mean_service_ms,
    run_e2e,
)
from payledger.cli.common import console, run, setup_logging
from payledger.config import LoggingSettings, Settings


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
