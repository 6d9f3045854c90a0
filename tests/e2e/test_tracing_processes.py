"""One payment's path is one trace across processes: ``payledger serve`` takes the webhook,
a separate ``payledger worker`` fetches the payment from PayTrace and posts it to D365, each
process exporting its own spans (console exporter, one JSON span per line on stdout)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from payledger.bench.postgres import free_port
from payledger.bench.sandbox_process import d365_sandbox_process, paytrace_sandbox_process
from payledger.bootstrap.webhooks import FETCH_HINTED
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.postings import FLUSH_JOURNALS
from tests.e2e.live_service import (
    DATABASE,
    PAYLEDGER,
    WEBHOOK_SECRET,
    LiveService,
    _config,
    payledger,
)

pytestmark = pytest.mark.slow
TRACING = '[tracing]\nenabled = true\nexporter = "console"\nservice_name = "payledger-e2e"\n'
SECRETS = ("demo123", "payledger-secret", WEBHOOK_SECRET, "Bearer ", "eyJ")


@contextlib.contextmanager
def process(workdir: Path, *args: str) -> Iterator[Path]:
    """``payledger *args`` until the block ends (then SIGTERM); yields its stdout's file."""
    out = workdir / f"{args[0]}.out"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    with out.open("w") as stdout:
        proc = subprocess.Popen(
            [*PAYLEDGER, *args], cwd=workdir, env=environment, stdout=stdout, stderr=stdout
        )
        try:
            yield out
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def spans(out: Path) -> list[dict[str, Any]]:
    found = []
    for line in out.read_text().splitlines():
        with contextlib.suppress(ValueError):
            document = json.loads(line)
            if isinstance(document, dict) and "context" in document:
                found.append(document)
    return found


def ready(url: str, out: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"serve never became ready: {out.read_text()[-3000:]}")


def posted(workdir: Path) -> int:
    with contextlib.closing(sqlite3.connect(workdir / DATABASE)) as db:
        return db.execute("SELECT count(*) FROM postings WHERE state = 'posted'").fetchone()[0]


def test_a_webhook_its_jobs_and_their_paytrace_and_d365_requests_are_one_trace(tmp_path):
    with contextlib.ExitStack() as stack:
        paytrace_url = stack.enter_context(paytrace_sandbox_process(tmp_path))
        d365 = stack.enter_context(d365_sandbox_process(tmp_path))
        port = free_port()
        config = _config(paytrace_url, port, d365) + 'fallback_customer_account = "US-001"\n'
        (tmp_path / "payledger.toml").write_text(config + TRACING)
        assert payledger(tmp_path, "migrate").returncode == 0
        for name, value in (
            ("paytrace-password", "demo123"),
            ("paytrace-webhook-secret", WEBHOOK_SECRET),
            ("d365-client-secret", "payledger-secret"),
        ):
            assert payledger(tmp_path, "secrets", "set", name, stdin=value).returncode == 0
        service = LiveService(f"http://127.0.0.1:{port}", paytrace_url, tmp_path)
        with process(tmp_path, "serve", "--no-worker") as serve_out:
            ready(service.url, serve_out)
            with process(tmp_path, "worker") as worker_out:
                txn = service.sale("31.40")
                with httpx.Client(base_url=service.url) as http:
                    assert service.hint(http, txn).status_code == 200
                deadline = time.monotonic() + 90
                while posted(tmp_path) < 1 and time.monotonic() < deadline:
                    time.sleep(0.25)
                assert posted(tmp_path) == 1, worker_out.read_text()[-3000:]

    served, worked = spans(serve_out), spans(worker_out)
    (hint,) = [s for s in served if s["name"] == "POST /webhooks/paytrace"]
    trace_id = hint["context"]["trace_id"]
    assert hint["resource"]["attributes"]["payledger.process"] == "serve"
    ours = [s for s in worked if s["context"]["trace_id"] == trace_id]
    kinds = {s["attributes"].get("payledger.job.kind") for s in ours} - {None}
    assert {FETCH_HINTED, PROCESS_PAYMENT, FLUSH_JOURNALS} <= kinds
    systems = {s["attributes"].get("payledger.system") for s in ours}
    assert {"paytrace", "d365"} <= systems
    assert {s["resource"]["attributes"]["payledger.process"] for s in ours} == {"worker"}
    everything = serve_out.read_text() + worker_out.read_text()
    assert not [secret for secret in SECRETS if secret in everything]
