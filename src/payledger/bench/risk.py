"""``payledger bench risk``: train on one generated history, score another, count what was caught.

Flagged means the assessment's action is not ``allow`` at the default thresholds. Recall per
pattern is the share of its labelled events flagged. A flagged normal event is a false
positive; it is charged to the pattern its strongest reason belongs to (:data:`FAMILIES`), so
that per-pattern precision says how clean each family of rules is; false positives whose
strongest reason is the model's count in the overall precision only. Latency is the scorer's
``assess`` alone (the store's history query is not part of it), one call per event.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from payledger.adapters.risk_model import load_scorer, load_trainer, rule_limits
from payledger.bench.risk_data import PATTERNS, Dataset, generate
from payledger.bench.risk_history import histories
from payledger.config import RiskModelSettings, RiskSettings
from payledger.domain.risk import Action
from payledger.domain.risk_rules import DEFAULT_WEIGHTS

FAMILIES = {
    "card_testing": ("card_testing", "velocity_card", "velocity_ip", "velocity_zip"),
    "refund_abuse": ("refund_larger", "refund_late", "refund_other_card", "refund_frequent"),
    "amount_outlier": ("amount_outlier", "new_customer_large", "velocity_customer"),
    "avs_mismatch_burst": ("avs_mismatch", "csc_mismatch", "mismatch_burst"),
    "duplicate_charge": ("duplicate_charge",),
}
"""Which reason codes answer which pattern (for charging false positives)."""
assert {c for codes in FAMILIES.values() for c in codes} == set(DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class RiskBenchOptions:
    customers: int = 1500
    days: int = 120
    warmup_days: int = 30
    train_seed: int = 1
    test_seed: int = 2
    train_rows: int = 0
    """Also time training on this many generated events (0: skip)."""
    model_weight: float = RiskModelSettings().weight
    """``[risk.model] weight``: 0 scores by the rules alone."""


@dataclass
class Tally:
    labelled: int = 0
    caught: int = 0
    false_positives: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.labelled if self.labelled else 0.0

    @property
    def precision(self) -> float:
        flagged = self.caught + self.false_positives
        return self.caught / flagged if flagged else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class RiskBenchResult:
    options: RiskBenchOptions
    train_events: int = 0
    train_seconds: float = 0.0
    scored: int = 0
    """Events after the warm-up, the ones counted."""
    per_pattern: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    model_version: str = ""
    model_problem: str = ""
    latencies_ms: list[float] = field(default_factory=list)
    """Wall-clock ms per ``assess`` (includes waiting for a core on a busy machine)."""
    cpu_ms: list[float] = field(default_factory=list)
    """CPU ms per ``assess`` on its thread: the cost on one core."""
    big_train_rows: int = 0
    big_train_seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    """How often each reason code was the strongest of a flagged event."""

    def latency(self, q: float, cpu: bool = False) -> float:
        """The ``q`` quantile of the per-event wall-clock (or CPU) milliseconds."""
        ordered = sorted(self.cpu_ms if cpu else self.latencies_ms)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def run_risk_bench(options: RiskBenchOptions) -> RiskBenchResult:
    """Generate, train, score, count (see the module's docstring)."""
    result = RiskBenchResult(options, per_pattern={p: Tally() for p in PATTERNS})
    with tempfile.TemporaryDirectory(prefix="payledger-risk-") as tmp:
        model = RiskModelSettings(
            directory=Path(tmp) / "models", weight=options.model_weight, min_events=50
        )
        settings = RiskSettings(model=model)
        train = _generate(options, options.train_seed)
        started = time.perf_counter()
        load_trainer(settings).train(train.events)
        result.train_seconds = time.perf_counter() - started
        result.train_events = len(train.events)
        _score(settings, _generate(options, options.test_seed), result)
        if options.train_rows:
            _big_training(settings, options, result)
    return result


def _generate(options: RiskBenchOptions, seed: int, customers: int = 0) -> Dataset:
    return generate(seed, customers or options.customers, options.days, options.warmup_days)


def _score(settings: RiskSettings, test: Dataset, result: RiskBenchResult) -> None:
    scorer = load_scorer(settings)
    result.model_version, result.model_problem = scorer.model_version, scorer.model_problem
    lookback = rule_limits(settings.rules).lookback
    for (subject, history), label in zip(
        histories(test.events, lookback), test.labels, strict=True
    ):
        cpu_started, started = time.thread_time_ns(), time.perf_counter_ns()
        assessment = scorer.assess(subject, history)
        elapsed = (time.perf_counter_ns() - started) / 1e6
        cpu = (time.thread_time_ns() - cpu_started) / 1e6
        if subject.occurred_at < test.warmup_end:
            continue
        result.scored += 1
        result.latencies_ms.append(elapsed)
        result.cpu_ms.append(cpu)
        flagged = assessment.action is not Action.ALLOW
        top = assessment.reasons[0].code if flagged and assessment.reasons else ""
        if flagged:
            result.reasons[top] = result.reasons.get(top, 0) + 1
        if label:
            result.per_pattern[label].labelled += 1
            result.per_pattern[label].caught += flagged
            result.overall.labelled += 1
            result.overall.caught += flagged
        elif flagged:
            result.overall.false_positives += 1
            family = next((p for p, codes in FAMILIES.items() if top in codes), None)
            if family:
                result.per_pattern[family].false_positives += 1


def _big_training(
    settings: RiskSettings, options: RiskBenchOptions, result: RiskBenchResult
) -> None:
    per_customer = max(result.train_events / options.customers, 1.0)
    customers = int(options.train_rows / per_customer * 1.05) + 1
    events = _generate(options, options.train_seed + 100, customers).events[: options.train_rows]
    started = time.perf_counter()
    load_trainer(settings).train(events)
    result.big_train_seconds = time.perf_counter() - started
    result.big_train_rows = len(events)
