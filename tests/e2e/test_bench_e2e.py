"""``payledger bench e2e`` at toy sizes: every figure is printed and every payment is posted.

The figures themselves are not asserted: a benchmark reports what it measures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from payledger.bench.e2e import E2EOptions, E2EPhase, E2EResult, ceiling_per_second
from payledger.sandbox.d365.settings import realistic_faults

FIGURES = (
    r"payments posted/s \(200 events at once\)",
    r"vs model ceiling \(1,250/s\)",
    r"vs naive \([\d.,]+/s: 1 request per payment, sequential\)",
    r"all events processed / all lines posted after",
    r"D365 requests/payment \(200 at once\)",
    r"events fed in the latency run \(target 50/s\)",
    r"D365 requests/payment \(steady load, 50/s\)",
    r"p50 event→D365 latency at 50/s",
    r"p99 event→D365 latency at 50/s",
    r"max event→D365 latency at 50/s",
    r"payledger process CPU \(at-once run\)",
    r"D365 connector in-flight limit before → after at-once run",
    r"peak RSS \(payledger process\)",
)


def test_the_ceiling_is_capacity_times_lines_over_mean_service_time():
    # 16 slots; t(100) = 60 + 40/2 + 12 * 100 = 1,280 ms
    assert ceiling_per_second(realistic_faults(), 100) == pytest.approx(1_250)
    assert ceiling_per_second(realistic_faults(), 1) == pytest.approx(16 / 0.092)


def test_a_run_that_left_a_payment_unposted_is_not_all_posted():
    done = E2EPhase(events=10, posted=10, seconds=1.0, requests=1, cpu_seconds=0.5)
    short = E2EPhase(events=10, posted=9, seconds=1.0, requests=1, cpu_seconds=0.5)
    result = E2EResult(E2EOptions(), "sqlite", done, done, done, peak_rss_mb=1.0)
    assert result.all_posted
    assert not E2EResult(E2EOptions(), "sqlite", done, short, done, peak_rss_mb=1.0).all_posted
    assert short.requests_per_payment == pytest.approx(1 / 9)


@pytest.mark.slow
def test_bench_e2e_prints_every_figure_and_posts_every_payment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")} | {
        "COLUMNS": "200"
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "payledger.cli.main",
            "bench",
            "e2e",
            "--payments",
            "200",
            "--naive",
            "20",
            "--rate",
            "50",
            "--seconds",
            "3",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "payledger bench e2e" in out
    for figure in FIGURES:
        assert re.search(figure + r"\s+│\s+\S", out), figure
    posted = r"payments posted \(naive / at once / steady\)\s+│\s+20/20 · 200/200 · 150/150"
    assert re.search(posted, out)
    for goal in ("≥ 90%", "≥ 30x", "≤ 0.02", "< 2 s"):
        assert goal in out
    flat = " ".join(out.split())
    assert "ceiling = C·n / t(n)" in flat
    assert "= 1,280 ms at n = 100 → 1,250 payments/s" in flat
