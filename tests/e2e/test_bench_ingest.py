"""``payledger bench ingest`` at toy sizes: every figure is printed, every acknowledged webhook
is in the inbox with its delivery id, every hint becomes a payment once the fetch jobs ran, and
the load generator measures what it claims.

The figures themselves are not asserted: a benchmark reports what it measures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from fastapi import FastAPI, Request

from payledger.bench.load import closed_loop, open_loop, post
from payledger.bench.postgres import find_server_binaries
from tests.conftest import POSTGRES_MISSING
from tests.integration.web.webhooks.stage import served

FIGURES = (
    r"no-op endpoint, requests/s \(4 connections\)",
    r"webhook receipts/s \(2xx = hint committed\)",
    r"webhook / no-op \(goal >= 50%\)\W+\d+%",
    r"server CPU ms/request: no-op / webhook\W+[\d.]+ / [\d.]+",
    r"at 20 webhooks/s: achieved rate",
    r"ack latency p50 / p99 / max, ms\W+[\d.,]+ / [\d.,]+ / [\d.,]+",
    r"p99 < 1 s",
    r"then the fetch jobs: payments fetched, s\W+[\d,]+, [\d.]+ s",
)


def bench(*backends: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")} | {
        "COLUMNS": "200"
    }
    options = [option for name in backends for option in ("--backend", name)]
    return subprocess.run(
        [
            sys.executable, "-m", "payledger.cli.main", "bench", "ingest",
            "--requests", "30", "--rounds", "2", "--connections", "4",
            "--rate", "20", "--seconds", "1", *options,
        ],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(find_server_binaries() is None, reason=POSTGRES_MISSING),
            ],
        ),
    ],
)
def test_bench_ingest_prints_every_figure_and_stores_every_acknowledged_webhook(backend):
    result = bench(backend)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for figure in FIGURES:
        assert re.search(figure, out), figure
    # 2 rounds x 30 + 20/s x 1 s, each a distinct sale: all acknowledged, stored, remembered;
    # then every hint fetched from PayTrace into a payment, none parked or left over
    assert re.search(r"webhook 2xx / hint rows / delivery ids\W+80 / 80 / 80", out), out
    assert re.search(r"non-2xx answers\W+0", out), out
    assert re.search(r"payments fetched, s\W+80, ", out), out
    assert re.search(r"hints processed / parked / jobs not done\W+80 / 0 / 0", out), out


async def test_the_load_generator_counts_every_answer_and_holds_the_rate():
    app, seen = FastAPI(), []

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        seen.append(await request.body())
        return {"n": len(seen)}

    async with served(app) as url:
        port = int(url.rsplit(":", 1)[1])
        build = lambda i: post("/echo", b'{"i": %d}' % i, [("x-n", str(i))], "127.0.0.1")  # noqa: E731
        closed = await closed_loop("127.0.0.1", port, build, 40, connections=5)
        steady = await open_loop("127.0.0.1", port, build, rate=50, seconds=0.4, connections=3)

    assert closed.statuses == {200: 40} and len(closed.latencies) == 40
    assert steady.statuses == {200: 20} and steady.requests == 20
    assert steady.seconds >= 0.38  # 20 requests due 20 ms apart: the rate was held, not rushed
    assert sorted(seen[:40]) == sorted(b'{"i": %d}' % i for i in range(40))
    assert 0 < steady.percentile(50) <= steady.percentile(99) <= steady.percentile(100)
