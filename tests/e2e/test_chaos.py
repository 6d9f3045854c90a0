"""Chaos, scaled to CI: faults, repeated shuffled deliveries and SIGKILLed worker processes
on SQLite and PostgreSQL; nothing lost, nothing doubled, totals equal per kind."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from payledger.bench.postgres import find_server_binaries

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_faults_and_killed_workers_lose_and_double_nothing(backend, tmp_path):
    if backend == "postgres" and find_server_binaries() is None:
        pytest.skip("PostgreSQL server binaries not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")} | {
        "COLUMNS": "160"
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "payledger.cli.main",
            "bench",
            "chaos",
            "--payments",
            "400",
            "--backend",
            backend,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"worker processes killed\W+3", out)
    assert re.search(r"worker processes\W+3\b", out)
    assert re.search(r"\blost\W+0\b", out)
    assert re.search(r"duplicated D365 lines\W+0\b", out)
    sales = re.search(r"sales: PayTrace / D365\W+([\d,.]+) / ([\d,.]+)", out)
    assert sales is not None and sales.group(1) == sales.group(2)
    refunds = re.search(r"refunds: PayTrace / D365\W+([\d,.]+) / ([\d,.]+)", out)
    assert refunds is not None and refunds.group(1) == refunds.group(2)
    faults = re.search(r"throttled / 5xx / dropped\W+(\d+) / (\d+) / (\d+) / (\d+)", out)
    assert faults is not None
    injected = sum(int(faults.group(n)) for n in (2, 3, 4))
    assert injected > 0  # the faults really happened
