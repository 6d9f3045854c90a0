"""``payledger mapping check|preview`` and ``payledger doctor`` as an operator runs them: real
processes against ``payledger sandbox``, configured through payledger.toml and the vault."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from payledger.bench.postgres import free_port
from payledger.bootstrap import build
from payledger.config import load_settings

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]
GOLDEN = Path(__file__).parents[1] / "unit/mapping/golden"


def environment(**extra: str) -> dict[str, str]:
    # Wide output so Rich tables keep each row on one line.
    keep = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    return keep | {"COLUMNS": "300"} | extra


def payledger(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PAYLEDGER, *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_for(url: str, **options) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1, **options)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``payledger sandbox`` running, payledger.toml pointing at it, both secrets stored."""
    root = tmp_path_factory.mktemp("golive")
    pt_port, d365_port = free_port(), free_port()
    sandbox = subprocess.Popen(
        [*PAYLEDGER, "sandbox", "--paytrace-port", str(pt_port), "--d365-port", str(d365_port)],
        cwd=root,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cert = root / "var/sandbox-tls/sandbox-cert.pem"
    d365 = f"https://127.0.0.1:{d365_port}"
    try:
        wait_for(f"http://127.0.0.1:{pt_port}/_sandbox/clock")
        wait_for(f"{d365}/data/$metadata", verify=ssl.create_default_context(cafile=str(cert)))
        (root / "payledger.toml").write_text(
            f'[database]\nurl = "sqlite:///{root}/var/payledger.db"\n'
            f'[vault]\nkey_file = "{root}/var/master.key"\n'
            f'[logging]\nfile = ""\n'
            f'[paytrace]\nenabled = true\nbase_url = "http://127.0.0.1:{pt_port}"\n'
            'username = "demo123"\nintegrator_id = "9575315uXt4u"\n'
            f'[d365]\nenabled = true\nbase_url = "{d365}"\nauthority_host = "{d365}"\n'
            'tenant = "payledger-sandbox"\nclient_id = "payledger-client"\n'
            f'ca_file = "{cert}"\n'
        )
        store_secrets(
            root,
            {
                "paytrace-password": "demo123",
                "d365-client-secret": "payledger-secret",
                "d365-old-secret": "not-the-secret",
            },
        )
        yield root
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)


def doctor_statuses(out: str) -> dict[str, str]:
    """check name -> ok/FAIL/skip, from doctor's table."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines()]
    return {row[1]: row[0] for row in rows if len(row) == 3 and row[0]}


def store_secrets(root: Path, secrets: dict[str, str]) -> None:
    """What ``payledger secrets set`` does, without a process per secret."""

    async def go() -> None:
        container = build(load_settings(root / "payledger.toml"))
        try:
            await container.prepare()
            for name, value in secrets.items():
                await container.vault.set(name, value, actor="test")
        finally:
            await container.aclose()

    asyncio.run(go())


def test_mapping_check_passes_with_the_default_templates_against_the_sandbox(workdir):
    result = payledger(workdir, "mapping", "check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ 15 templates valid against D365 $metadata" in result.stdout


def test_mapping_check_names_template_and_field_of_an_unknown_target_field(workdir, tmp_path):
    default = resources.files("payledger.mapping") / "specs" / "d365_customer.yaml"
    (tmp_path / "d365_customer.yaml").write_text(
        default.read_text() + "  CustomerNickname: {path: customer.name, optional: true}\n"
    )

    result = payledger(workdir, "mapping", "check", PAYLEDGER_MAPPING__TEMPLATES_DIR=str(tmp_path))

    assert result.returncode == 1, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if "CustomerNickname" in line]
    assert len(rows) == 1
    assert "d365_customer" in rows[0] and "CustomersV3 has no property CustomerNickname" in rows[0]
    assert "1 issue(s)" in result.stderr


def test_preview_prints_the_exact_payload_and_the_lineage_of_every_field(workdir):
    sample = GOLDEN / "d365_payment_journal_line.sale.json"

    result = payledger(workdir, "mapping", "preview", "d365_payment_journal_line", str(sample))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"CreditAmount": 125.50,' in out and '"DebitAmount": 0.00,' in out
    assert '"AccountDisplayValue": "US\\\\-001",' in out
    lineage = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert set(json.loads(sample.read_text())["output"]) <= set(lineage)
    credit = lineage["CreditAmount"]
    assert "mapped" in credit and "payment.amount" in credit and "money(" in credit
    assert "settings.company" in lineage["dataAreaId"]


def test_preview_fails_naming_the_field_a_sample_lacks_or_gets_wrong(workdir, tmp_path):
    document = json.loads((GOLDEN / "d365_payment_journal_line.sale.json").read_text())["input"]
    del document["customer"]["account"], document["invoice"]["customer_account"]
    document["payment"]["occurred_at"] = "5 March 2025"
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(document))

    result = payledger(workdir, "mapping", "preview", "d365_payment_journal_line", str(sample))

    assert result.returncode == 1
    errors = result.stderr
    assert (
        "field AccountDisplayValue: required value is missing (from customer.account, "
        "invoice.customer_account" in errors
    )
    assert "sample field payment.occurred_at: expected ISO-8601 UTC text" in errors
    assert "payload (partial: 2 field(s) failed)" in result.stdout


def test_doctor_passes_against_both_sandboxes(workdir):
    result = payledger(workdir, "doctor")

    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout
    statuses = doctor_statuses(result.stdout)
    for check in ("database", "PayTrace login", "D365 token", "D365 $metadata", "company"):
        assert statuses[check] == "ok"
    assert statuses["mapping templates"] == "ok"
    assert result.stdout.rstrip().endswith(", 0 failed: ready")


def test_doctor_fails_with_a_hint_when_the_d365_secret_is_wrong(workdir):
    result = payledger(workdir, "doctor", PAYLEDGER_D365__CLIENT_SECRET_SECRET="d365-old-secret")

    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert len(failed) == 1 and "D365 token" in failed[0] and "AADSTS7000215" in failed[0]
    assert "payledger secrets set d365-old-secret" in result.stdout
    assert "not-the-secret" not in result.stdout + result.stderr


def test_doctor_fails_with_a_hint_when_an_extension_field_is_misconfigured(workdir):
    result = payledger(
        workdir, "doctor", PAYLEDGER_D365__FIELDS__ORDER_PAYMENT_STATUS="PaymentState"
    )

    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert "extension field order_payment_status" in failed[0]
    assert "SalesOrderHeadersV2 has no property PaymentState" in failed[0]
    assert "set [d365.fields] order_payment_status to its real name" in result.stdout
    assert "mapping templates" in failed[1]  # the template writes the field too
