"""``payledger sandbox`` serves both emulators the way a newcomer uses them, and the poller
configured through payledger.toml and the vault brings PayTrace payments into the inbox."""

from __future__ import annotations

import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from payledger.bench.postgres import free_port

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]
VISA = "4012000098765439"


def tls(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}


def wait_for(url: str, **options) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1, **options)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
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
    try:
        wait_for(f"http://127.0.0.1:{pt_port}/_sandbox/clock")
        wait_for(f"https://127.0.0.1:{d365_port}/data/$metadata", verify=tls(cert))
        yield f"http://127.0.0.1:{pt_port}", f"https://127.0.0.1:{d365_port}", cert
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert proc.returncode == 0


def test_a_newcomer_can_use_both_sandboxes_with_plain_http(sandboxes):
    paytrace, d365, cert = sandboxes
    token = httpx.post(
        f"{paytrace}/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": "demo123"},
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 7200
    ping = httpx.post(
        f"{paytrace}/v1/ping",
        json={"integrator_id": "x"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert ping.json()["success"] is True

    grant = httpx.post(
        f"{d365}/payledger-sandbox/oauth2/v2.0/token",
        verify=tls(cert),
        data={
            "grant_type": "client_credentials",
            "client_id": "payledger-client",
            "client_secret": "payledger-secret",
            "scope": f"{d365}/.default",
        },
    ).json()
    bearer = {"Authorization": f"Bearer {grant['access_token']}"}
    metadata = httpx.get(f"{d365}/data/$metadata", headers=bearer, verify=tls(cert))
    assert 'Namespace="Microsoft.Dynamics.DataEntities"' in metadata.text
    customers = httpx.get(
        f"{d365}/data/CustomersV3", params={"$top": "2"}, headers=bearer, verify=tls(cert)
    )
    assert len(customers.json()["value"]) == 2
    assert httpx.get(f"{d365}/data/CustomersV3", verify=tls(cert)).status_code == 401


def test_the_configured_poller_brings_paytrace_payments_into_the_inbox(sandboxes, tmp_path):
    paytrace, _, _ = sandboxes
    (tmp_path / "payledger.toml").write_text(
        f'[paytrace]\nenabled = true\nbase_url = "{paytrace}"\nusername = "demo123"\n'
        'integrator_id = "9575315uXt4u"\n[worker]\npoll_interval_seconds = 0.05\n'
    )
    stored = subprocess.run(
        [*PAYLEDGER, "secrets", "set", "paytrace-password"],
        cwd=tmp_path,
        input="demo123",
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert stored.returncode == 0, stored.stderr
    token = httpx.post(
        f"{paytrace}/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": "demo123"},
    ).json()
    sale = httpx.post(
        f"{paytrace}/v1/transactions/sale/keyed",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        json={
            "integrator_id": "9575315uXt4u",
            "amount": "42.00",
            "invoice_id": "INV-42",
            "credit_card": {"number": VISA, "expiration_month": "12", "expiration_year": "2030"},
        },
    ).json()
    assert sale["success"], sale

    worker = subprocess.Popen(
        [*PAYLEDGER, "worker"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        rows: list = []
        while time.monotonic() < deadline and not rows:
            time.sleep(0.2)
            if (tmp_path / "var/payledger.db").exists():
                db = sqlite3.connect(tmp_path / "var/payledger.db")
                try:
                    rows = db.execute("SELECT external_id FROM inbox").fetchall()
                except sqlite3.OperationalError:
                    rows = []
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert rows == [(f"paytrace:{sale['transaction_id']}:sale:approved",)], err
    assert VISA not in err
