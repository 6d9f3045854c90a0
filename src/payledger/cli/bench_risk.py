"""``payledger bench risk``: the risk screen's precision and recall per attack pattern, training
time and scoring latency."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from payledger.cli.common import console

if TYPE_CHECKING:
    from payledger.bench.risk import RiskBenchResult


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
