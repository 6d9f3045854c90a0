"""``payledger bench risk`` small enough for CI: its figures come from the data it scored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from payledger.bench.risk import FAMILIES, RiskBenchOptions, Tally, run_risk_bench
from payledger.bench.risk_data import PATTERNS, generate
from payledger.cli.main import app

SMALL = RiskBenchOptions(customers=80, days=40, warmup_days=10)


def test_the_report_counts_the_labelled_events_it_was_given():
    result = run_risk_bench(SMALL)
    test = generate(SMALL.test_seed, SMALL.customers, SMALL.days, SMALL.warmup_days)
    counted = [
        label
        for event, label in zip(test.events, test.labels, strict=True)
        if event.occurred_at >= test.warmup_end
    ]
    labelled = Counter(label for label in counted if label)
    assert {p: t.labelled for p, t in result.per_pattern.items()} == {
        p: labelled[p] for p in PATTERNS
    }
    assert result.scored == len(counted) == len(result.latencies_ms) == len(result.cpu_ms)
    assert result.overall.labelled == sum(labelled.values())
    assert result.overall.caught == sum(t.caught for t in result.per_pattern.values())
    assert sum(t.false_positives for t in result.per_pattern.values()) <= (
        result.overall.false_positives
    )
    assert sum(result.reasons.values()) == result.overall.caught + result.overall.false_positives
    assert result.train_events == len(generate(SMALL.train_seed, 80, 40, 10).events)
    assert result.model_version and not result.model_problem
    # The rules catch what they were built for, even on a small history.
    assert result.per_pattern["duplicate_charge"].recall == 1.0
    assert result.per_pattern["card_testing"].recall > 0.8


def test_precision_recall_and_f1_are_computed_from_the_tally():
    t = Tally(labelled=10, caught=8, false_positives=2)
    assert (t.precision, t.recall) == (0.8, 0.8)
    assert abs(t.f1 - 0.8) < 1e-12
    assert Tally().f1 == 0.0


def test_every_reason_code_is_charged_to_one_pattern():
    charged = [code for codes in FAMILIES.values() for code in codes]
    assert len(charged) == len(set(charged)) and set(FAMILIES) == set(PATTERNS)


def test_the_command_prints_the_tables(tmp_path: Path):
    config = tmp_path / "payledger.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/payledger.db"\n')
    result = CliRunner().invoke(
        app,
        [
            "--config",
            str(config),
            "bench",
            "risk",
            "--customers",
            "40",
            "--days",
            "20",
            "--warmup-days",
            "5",
            "--train-rows",
            "3000",
        ],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 0, result.output
    for figure in ("overall", "card_testing", "training on 3,000 events", "p50 / p99"):
        assert figure in result.stdout
