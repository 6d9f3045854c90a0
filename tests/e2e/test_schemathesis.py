"""Schemathesis over the live service's OpenAPI document: no generated request, valid or
invalid, makes the server answer 5xx.

The service runs as ``payledger serve`` (real uvicorn, every middleware) with the PayTrace
sandbox in its own process, and the schemathesis CLI drives it over HTTP. The first run sends
what schemathesis generates for every operation; the second signs each generated webhook body
with the real secret (``schemathesis_signing.py``), so generated JSON gets past the signature
into parsing, validation and storing the hint (PayTrace is asked later, by the fetch job).
Bounded for CI by ``--max-examples``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.live_service import WEBHOOK_SECRET, LiveService, live_service, payledger

EXAMPLES_PER_OPERATION = "25"
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with live_service(tmp_path_factory.mktemp("schemathesis"), with_d365=True) as running:
        yield running
    # whatever was generated, nothing that looks like card data was stored or logged
    scan = payledger(running.workdir, "scan-pan")
    assert scan.returncode == 0, scan.stdout


def schemathesis_run(
    service: LiveService, *options: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """Run the CLI; returns the finished process and the HAR entries of every request."""
    har = service.workdir / f"schemathesis-{len(list(service.workdir.glob('*.har')))}.har"
    done = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{service.url}/openapi.json",
            "--checks", "not_a_server_error",
            "--max-examples", EXAMPLES_PER_OPERATION,
            "--mode", "all",
            "--seed", "7",
            "--workers", "1",
            "--request-timeout", "60",
            "--report", "har", "--report-har-path", str(har),
            *options,
        ],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    return done, entries


def test_the_document_describes_the_webhooks_headers_and_body(service):
    document = httpx.get(f"{service.url}/openapi.json").json()
    operation = document["paths"]["/webhooks/paytrace"]["post"]
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert all(p["required"] for p in headers.values())
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    kinds = {k for v in body["oneOf"] for k in v["properties"]["type"]["enum"]}
    assert "transaction.created" in kinds
    assert {"200", "400", "401", "413", "415", "422", "503"} <= set(operation["responses"])


@pytest.mark.slow
def test_no_generated_request_to_any_operation_gets_a_server_error(service):
    issued = payledger(
        service.workdir, "tokens", "create", "--name", "fuzzer",
        "--scope", "read", "--scope", "payments:write", "--scope", "orders:write",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]

    done, requests = schemathesis_run(service, "--header", f"Authorization: Bearer {token}")

    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    statuses = Counter(entry["response"]["status"] for entry in requests)
    assert not [status for status in statuses if status >= 500], statuses
    paths = {httpx.URL(entry["request"]["url"]).path for entry in requests}
    assert {"/webhooks/paytrace", "/api/v1/payments", "/api/v1/orders", "/readyz"} <= paths
    assert len(requests) > 500


@pytest.mark.slow
def test_no_signed_webhook_delivery_gets_a_server_error(service):
    known = [service.sale(amount) for amount in ("10.00", "11.00", "12.00")]
    done, requests = schemathesis_run(
        service,
        "--include-path", "/webhooks/paytrace",
        env={
            "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_signing",
            "PAYLEDGER_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PAYLEDGER_TEST_TRANSACTION_IDS": ",".join(map(str, known)),
        },
    )  # fmt: skip

    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    answers = Counter(
        (entry["response"]["status"], _outcome(entry["response"]["content"].get("text", "")))
        for entry in requests
    )
    assert not [status for status, _ in answers if status >= 500], answers
    assert not [status for status, _ in answers if status == 401], answers  # all were signed
    outcomes = {outcome for _, outcome in answers}
    # an id PayTrace does not know is accepted too: it is the fetch job that finds out
    assert {"accepted", "invalid_body"} <= outcomes, answers
    assert "unknown_transaction" not in outcomes, answers


def _outcome(text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    return str(body.get("status") or body.get("error") or "") if isinstance(body, dict) else ""
