"""``payledger reconcile`` as an operator runs it, against both sandboxes served by
``payledger sandbox``: a settled sale D365 never got is reported, and the stored report is
printed as a table, JSON, CSV and HTML."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from payledger.bench.postgres import free_port

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]
VISA = "4012000098765439"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}


def payledger(workdir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PAYLEDGER, *args],
        cwd=workdir,
        input=stdin,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A payledger.toml pointed at both sandboxes, which run until the test ends."""
    pt_port, d365_port = free_port(), free_port()
    proc = subprocess.Popen(
        [*PAYLEDGER, "sandbox", "--paytrace-port", str(pt_port), "--d365-port", str(d365_port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    cert = tmp_path / "var/sandbox-tls/sandbox-cert.pem"
    d365 = f"https://127.0.0.1:{d365_port}"
    try:
        deadline = time.monotonic() + 120  # a start-up deadline for a busy machine, not a timing
        while not (
            cert.exists()
            and _answers(f"http://127.0.0.1:{pt_port}/_sandbox/clock")
            and _answers(f"{d365}/data/$metadata", verify=False)
        ):
            assert proc.poll() is None, f"payledger sandbox exited: {proc.communicate()[0]}"
            assert time.monotonic() < deadline, "the sandboxes did not start"
            time.sleep(0.2)
        (tmp_path / "payledger.toml").write_text(
            f'[paytrace]\nbase_url = "http://127.0.0.1:{pt_port}"\nusername = "demo123"\n'
            'integrator_id = "9575315uXt4u"\n'
            f'[d365]\nbase_url = "{d365}"\nauthority_host = "{d365}"\n'
            'tenant = "payledger-sandbox"\nclient_id = "payledger-client"\n'
            f'ca_file = "{cert}"\n'
            '[logging]\nfile = "var/log/payledger.log"\n'
        )
        for name, secret in (
            ("paytrace-password", "demo123"),
            ("d365-client-secret", "payledger-secret"),
        ):
            stored = payledger(tmp_path, "secrets", "set", name, stdin=secret)
            assert stored.returncode == 0, stored.stderr
        yield tmp_path
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def _answers(url: str, **options: object) -> bool:
    try:
        httpx.get(url, timeout=1, **options)  # type: ignore[arg-type]
    except httpx.TransportError:
        return False
    return True


def settle_a_sale(workdir: Path) -> str:
    config = (workdir / "payledger.toml").read_text()
    paytrace = config.split('base_url = "')[1].split('"')[0]
    token = httpx.post(
        f"{paytrace}/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": "demo123"},
    ).json()["access_token"]
    sale = httpx.post(
        f"{paytrace}/v1/transactions/sale/keyed",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "integrator_id": "9575315uXt4u",
            "amount": "42.00",
            "invoice_id": "INV-42",
            "credit_card": {"number": VISA, "expiration_month": "12", "expiration_year": "2030"},
        },
    ).json()
    assert sale["success"], sale
    assert httpx.post(f"{paytrace}/_sandbox/settle").json()["batch"] is not None
    return str(sale["transaction_id"])


def test_reconcile_reports_a_settled_sale_d365_never_got_and_shows_the_report(workdir):
    txn = settle_a_sale(workdir)
    today = datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat()

    ran = payledger(workdir, "reconcile", "--date", today)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "missing_in_d365" in ran.stdout and txn in ran.stdout
    assert "payledger reconcile show 1" in ran.stdout

    report = json.loads(payledger(workdir, "reconcile", "show", "1", "--format", "json").stdout)
    assert report["period"] == {"from": today, "to": today}
    assert report["counts"]["missing_in_d365"] == 1 and report["exceptions"] == 1
    [item] = report["items"]
    assert (item["txn_id"], item["reference"], item["heal"]) == (txn, f"PT-{txn}-PAY", "enqueued")

    saved = payledger(workdir, "reconcile", "show", "1", "--format", "csv", "--output", "r.csv")
    assert saved.returncode == 0, saved.stderr
    [row] = list(csv.DictReader(io.StringIO((workdir / "r.csv").read_text())))
    assert (row["class"], row["paytrace_amount"]) == ("missing_in_d365", "42.00")
    html = payledger(workdir, "reconcile", "show", "1", "--format", "html").stdout
    assert "<h2>Totals per class</h2>" in html and txn in html
    assert "missing_in_d365" in payledger(workdir, "reconcile", "show", "1").stdout
    listed = payledger(workdir, "reconcile", "list").stdout
    assert today in listed and "done" in listed

    failing = payledger(workdir, "reconcile", "--date", today, "--fail-on-exceptions")
    assert failing.returncode == 1


def test_reconcile_needs_a_clear_period(tmp_path):
    workdir = tmp_path
    for args, says in (
        ((), "give --date D, or --from A --to B"),
        (("--date", "2026-13-01"), "is not a date"),
        (("--from", "2026-03-05", "--to", "2026-03-01"), "is before --from"),
    ):
        result = payledger(workdir, "reconcile", *args)
        assert result.returncode == 2 and says in result.stderr, result.stderr
    missing = payledger(workdir, "reconcile", "show", "99")
    assert missing.returncode == 2 and "no reconciliation run 99" in missing.stderr
