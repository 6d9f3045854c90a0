"""``payledger bench billing --chaos`` scaled to CI: subscriptions due at once, billed through
D365 and PayTrace faults while a worker process is SIGKILLed, on SQLite and PostgreSQL. The
sandboxes must hold each period invoiced, charged and posted exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from payledger.bench.billing_proof import judge
from payledger.bench.postgres import find_server_binaries

KEY = "CustomerReference"


def test_the_proof_counts_doubles_and_misses_from_what_the_sandboxes_hold():
    invoices = [
        {KEY: "SUB-1-P0", "IsPosted": "Yes", "InvoiceId": "CIV-1"},
        {KEY: "SUB-2-P0", "IsPosted": "Yes", "InvoiceId": "CIV-2"},
        {KEY: "SUB-2-P0", "IsPosted": "No", "InvoiceId": ""},  # a second draft: doubled
        {KEY: "SUB-3-P0", "IsPosted": "Yes", "InvoiceId": "CIV-3"},
    ]
    sale = {"transaction_type": "SALE", "status_code": "PENDING"}
    transactions = [
        {**sale, "invoice_id": "CIV-1"},
        {**sale, "invoice_id": "CIV-2"},
        {**sale, "invoice_id": "CIV-3"},
        {**sale, "invoice_id": "CIV-3"},  # charged twice
        {**sale, "invoice_id": "CIV-1", "status_code": "DECLINED"},  # no charge
    ]
    lines = [{"MarkedInvoice": "CIV-1"}, {"MarkedInvoice": "CIV-2"}, {"MarkedInvoice": "CIV-3"}]

    proof = judge(["SUB-1-P0", "SUB-2-P0", "SUB-3-P0", "SUB-4-P0"], invoices, lines,
                  transactions, key_field=KEY)  # fmt: skip

    assert proof.doubled_invoices == ["SUB-2-P0"]
    assert proof.doubled_charges == ["SUB-3-P0"]
    assert proof.missed == ["SUB-4-P0"]  # never invoiced
    assert (proof.invoiced, proof.charged, proof.posted) == (3, 3, 3)
    assert not proof.ok


@pytest.mark.slow
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_faults_and_a_killed_worker_neither_double_nor_miss_a_period(database, tmp_path):
    if database == "postgres" and find_server_binaries() is None:
        pytest.skip("PostgreSQL server binaries not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")} | {
        "COLUMNS": "160"
    }
    result = subprocess.run(
        [
            sys.executable, "-m", "payledger.cli.main", "bench", "billing",
            "--subscriptions", "30", "--database", database, "--chaos", "--kills", "1",
            "--max-per-run", "10", "--lease-seconds", "10", "--hold-seconds", "15",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"worker processes killed\W+1\b", out)
    assert re.search(r"invoiced / charged / posted in D365\W+30 / 30 / 30\b", out)
    for doubled in ("invoices", "charges", "payments"):
        assert re.search(rf"{doubled} per period > 1\W+0\b", out), doubled
    assert re.search(r"missed periods\W+0\b", out)
    d365 = re.search(r"D365 throttled / 5xx / dropped\W+(\d+) / (\d+) / (\d+)", out)
    assert d365 is not None and int(d365.group(1)) + int(d365.group(2)) > 0  # faults happened
