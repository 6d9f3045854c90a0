"""``payledger bench reconcile``: a million PayTrace transactions against a million D365 lines.

The data is generated first (as if already fetched); then the timed part runs the matcher and
builds the report, as a reconciliation run does after its fetches. Every item is checked
against what was seeded: found per class, missed, and false ones.
"""

from __future__ import annotations

import gc
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

from payledger.bench.reconcile_data import RULES as BENCH_RULES
from payledger.bench.reconcile_data import SEEDED_CLASSES, Dataset, Key, generate
from payledger.domain.reconcile import (
    Discrepancy,
    Item,
    Reconciliation,
    ReportContext,
    build_report,
    reconcile,
)


@dataclass(frozen=True)
class ReconcileBenchResult:
    transactions: int
    lines: int
    generate_seconds: float
    match_seconds: float
    report_seconds: float
    match_cpu_seconds: float
    report_cpu_seconds: float
    load_average: tuple[float, float]
    """1-minute load average before and after the timed part (2 cores: above 2, other
    processes took turns with this one and the wall times include the waiting)."""
    peak_rss_mb: float
    seeded: dict[str, int]
    found: dict[str, int]
    false_positives: dict[str, int]
    missed: dict[str, int]
    matched: int
    expected_matched: int
    exceptions: int
    seeded_exceptions: int

    @property
    def seconds(self) -> float:
        return self.match_seconds + self.report_seconds

    @property
    def cpu_seconds(self) -> float:
        return self.match_cpu_seconds + self.report_cpu_seconds

    @property
    def exact(self) -> bool:
        return (
            not any(self.false_positives.values())
            and not any(self.missed.values())
            and self.matched == self.expected_matched
            and self.exceptions == self.seeded_exceptions
        )


def item_key(recon: Reconciliation, item: Item) -> Key:
    """The key a seeded discrepancy is recorded under (see ``reconcile_data``)."""
    if item.txn >= 0 and item.by_reference:
        return ("txn", recon.txns[item.txn].txn_id)
    if item.kind in (Discrepancy.MISSING_IN_PAYTRACE, Discrepancy.DUPLICATE_IN_D365):
        return ("line", recon.lines[item.line].line_id)
    return ("txn", recon.txns[item.txn].txn_id)


def score(data: Dataset, recon: Reconciliation) -> dict[str, Counter[str]]:
    """Found, false and missed per class, comparing every item with the seeded truth."""
    found: Counter[str] = Counter()
    false: Counter[str] = Counter()
    seen: set[Key] = set()
    for item in recon.notable:
        if item.kind is Discrepancy.MATCHED:
            continue
        key = item_key(recon, item)
        if data.truth.get(key) is item.kind:
            found[item.kind.value] += 1
            seen.add(key)
        else:
            false[item.kind.value] += 1
    missed = Counter(kind.value for key, kind in data.truth.items() if key not in seen)
    return {"found": found, "false": false, "missed": missed}


def bench_reconcile(
    n: int = 1_000_000, *, rate: float = 0.01, seed: int = 42
) -> ReconcileBenchResult:
    started = time.perf_counter()
    data = generate(n, rate=rate, seed=seed)
    generated = time.perf_counter() - started
    gc.collect()
    gc.freeze()  # the inputs are long-lived: keep the collector from rescanning them
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    recon = reconcile(data.txns, data.lines, BENCH_RULES, data.period)
    matched_at, match_cpu = time.perf_counter(), time.process_time() - cpu_started
    context = ReportContext(
        run_id=0,
        company="usmf",
        first_day=date.fromordinal(data.period.first_day),
        last_day=date.fromordinal(data.period.last_day),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    report = build_report(recon, context)
    reported, cpu = time.perf_counter(), time.process_time() - cpu_started
    load_after = os.getloadavg()[0]
    gc.unfreeze()
    scores = score(data, recon)
    seeded = Counter(kind.value for kind in data.truth.values())
    counts = recon.counts()
    with_items = {key[1] for key in data.truth if key[0] == "txn"}
    return ReconcileBenchResult(
        transactions=len(data.txns),
        lines=len(data.lines),
        generate_seconds=generated,
        match_seconds=matched_at - started,
        report_seconds=reported - matched_at,
        match_cpu_seconds=match_cpu,
        report_cpu_seconds=cpu - match_cpu,
        load_average=(load_before, load_after),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        seeded={k.value: seeded.get(k.value, 0) for k in SEEDED_CLASSES},
        found={k.value: scores["found"].get(k.value, 0) for k in SEEDED_CLASSES},
        false_positives={k.value: scores["false"].get(k.value, 0) for k in Discrepancy},
        missed={k.value: scores["missed"].get(k.value, 0) for k in SEEDED_CLASSES},
        matched=counts[Discrepancy.MATCHED],
        expected_matched=data.in_period
        - sum(1 for t in data.txns if t.in_period and t.txn_id in with_items),
        exceptions=int(report["exceptions"]),
        seeded_exceptions=data.exceptions,
    )
