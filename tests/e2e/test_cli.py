"""The ``payledger`` command as an operator runs it: real processes, real files, real signals."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from payledger.adapters.db.migrate import head_revision
from payledger.bench.postgres import free_port

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "payledger.toml").write_text(
        '[database]\nurl = "sqlite:///var/payledger.db"\n'
        "[worker]\npoll_interval_seconds = 0.05\nbackoff_base_seconds = 0.05\n"
        '[logging]\nfile = "var/log/payledger.log"\nformat = "json"\n'
    )
    return tmp_path


def payledger(
    workdir: Path, *args: str, stdin: str = "", env: dict | None = None, timeout: int = 120
):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")} | (
        env or {}
    )
    return subprocess.run(
        [*PAYLEDGER, *args],
        cwd=workdir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def test_help_lists_every_operator_command(workdir):
    out = payledger(workdir, "--help").stdout
    for command in ("demo", "serve", "worker", "migrate", "secrets", "scan-pan", "bench", "replay"):
        assert command in out


def test_an_unknown_configuration_key_stops_start_up_naming_it(workdir):
    (workdir / "payledger.toml").write_text("[worker]\nconcurency = 4\n")
    result = payledger(workdir, "migrate")
    assert result.returncode == 2
    assert "worker.concurency" in result.stderr


def test_a_bad_environment_override_is_named(workdir):
    result = payledger(workdir, "migrate", env={"PAYLEDGER_WORKER__MAX_ATTEMPTS": "many"})
    assert result.returncode == 2
    assert "worker.max_attempts" in result.stderr


def test_an_unreachable_database_is_a_clear_error(workdir):
    result = payledger(
        workdir, "migrate", env={"PAYLEDGER_DATABASE__URL": "postgresql://x@127.0.0.1:1/none"}
    )
    assert result.returncode == 2
    assert "database unavailable" in result.stderr


def test_migrate_creates_the_schema(workdir):
    result = payledger(workdir, "migrate")
    assert result.returncode == 0, result.stderr
    assert f"empty -> {head_revision()}" in result.stdout
    tables = {
        row[0]
        for row in sqlite3.connect(workdir / "var/payledger.db").execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {
        "inbox",
        "jobs",
        "schedule_ticks",
        "idempotency_keys",
        "secrets",
        "audit_log",
        "watermarks",
    } <= tables


def test_secrets_are_read_from_stdin_and_never_printed(workdir):
    stored = payledger(workdir, "secrets", "set", "paytrace-password", stdin="Tr0ub4dor&3\n")
    assert stored.returncode == 0, stored.stderr
    listed = payledger(workdir, "secrets", "list")
    assert "paytrace-password" in listed.stdout
    rotated = payledger(workdir, "secrets", "rotate")
    assert "1 secret(s) re-encrypted" in rotated.stdout
    everything = stored.stdout + stored.stderr + listed.stdout + rotated.stdout
    assert "Tr0ub4dor" not in everything
    assert (
        "Tr0ub4dor" not in (workdir / "var/log/payledger.log").read_text()
        if (workdir / "var/log/payledger.log").exists()
        else True
    )
    assert (workdir / "var/master.key").stat().st_mode & 0o777 == 0o600
    assert payledger(workdir, "secrets", "delete", "paytrace-password").returncode == 0
    assert payledger(workdir, "secrets", "delete", "paytrace-password").returncode == 1


def test_scan_pan_finds_card_data_in_the_database_and_logs(workdir):
    assert payledger(workdir, "migrate").returncode == 0
    clean = payledger(workdir, "scan-pan")
    assert clean.returncode == 0
    assert "0 card-data hits" in clean.stdout
    db = sqlite3.connect(workdir / "var/payledger.db")
    db.execute(
        "INSERT INTO inbox (source, external_id, payload, status, received_at) "
        "VALUES ('x', 'y', '{\"n\": \"4111 1111 1111 1111\"}', 'received', '2026-01-01 00:00:00')"
    )
    db.commit()
    (workdir / "var/log").mkdir(parents=True, exist_ok=True)
    (workdir / "var/log/old.log").write_text("charged 5454545454545454\n")
    dirty = payledger(workdir, "scan-pan", "--log", "var/log")
    assert dirty.returncode == 1
    assert re.search(r"inbox\.payload \(row 1\) +│ \[card \*\*\*\*1111\]", dirty.stdout)
    assert re.search(r"old\.log:1 +│ \[card \*\*\*\*5454\]", dirty.stdout)
    assert "4111 1111 1111 1111" not in dirty.stdout and "5454545454545454" not in dirty.stdout


def test_replay_needs_to_be_told_what(workdir):
    result = payledger(workdir, "replay")
    assert result.returncode != 0
    assert "--all" in result.stderr


def test_the_engine_self_check_says_what_it_proved(workdir):
    result = payledger(workdir, "demo", "--self-check", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 5 checks passed" in result.stdout
    assert "0 hit(s)" in result.stdout


def _wait_until_ready(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve never became ready")


def test_serve_answers_runs_scheduled_work_and_stops_gracefully_on_sigterm(workdir):
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    proc = subprocess.Popen(
        [*PAYLEDGER, "serve", "--port", str(port)],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_ready(port, proc)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "payledger_queue_depth" in metrics
        refused = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/x", json={"pan": "4111111111111111"}
        )
        assert refused.status_code == 422
        # The embedded scheduler fired the hourly housekeeping tick and the embedded worker ran it.
        deadline = time.monotonic() + 20
        db = sqlite3.connect(workdir / "var/payledger.db")
        while time.monotonic() < deadline:
            row = db.execute(
                "SELECT status FROM jobs WHERE kind='maintenance.purge_idempotency_keys'"
            ).fetchone()
            if row and row[0] == "done":
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the scheduled housekeeping job never ran")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "service.stopped" in err
    assert "4111111111111111" not in err


def test_worker_stops_gracefully_on_sigterm(workdir):
    assert payledger(workdir, "migrate").returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    proc = subprocess.Popen(
        [*PAYLEDGER, "worker"],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert "running" in proc.stdout.readline()  # signal handlers are installed by now
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "worker.stopped" in err


def test_the_demo_runs_a_day_through_both_sandboxes_and_proves_agreement(workdir):
    result = payledger(workdir, "demo", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "PayTrace and D365 agree" in out
    assert "D365 goes down" in out and "429" in out
    parked = re.search(r"parked \(dead letters\)\W+(\d+)", out)
    assert parked is not None and parked.group(1) == "0"
    lines = re.search(r"lines\W+(\d+)\W+(\d+)\W+yes", out)
    assert lines is not None and lines.group(1) == lines.group(2) and int(lines.group(1)) > 150
    for kind in ("ACH payments in", "ACH refunds"):  # check (ACH) payments reach D365 too
        row = re.search(rf"{kind}\W+([\d,]+\.\d\d)\W+([\d,]+\.\d\d)\W+yes", out)
        assert row is not None and row.group(1) == row.group(2) and row.group(1) != "0.00", kind
    # signed webhooks: every hint committed before the answer, every announced sale fetched
    # back from PayTrace by the workers before any poll, and posted to D365
    acknowledged = re.search(r"deliveries / acknowledged .*?(\d+) / (\d+)", out)
    assert acknowledged is not None and acknowledged.groups() == ("20", "20")
    fetched = re.search(r"payments fetched back from PayTrace before any poll\W+(\d+)", out)
    assert fetched is not None and fetched.group(1) == "20"
    assert re.search(r"of them posted to D365 by the end of the day\W+20\b", out)
    assert re.search(r"a delivery replayed\W+replayed", out)
    assert re.search(r"a forged delivery \(wrong secret\)\W+401", out)
    # the evening: late sales found missing in D365, healed, verified; nothing left over
    assert "reconciliation of" in out
    missing = re.search(r"missing in d365\W+(\d+)\W+(\d+)", out)
    assert missing is not None and missing.groups() == ("3", "0")
    assert re.search(r"exceptions\W+3\W+0", out) and "verified 3" in out
    # the night: the day's journals posted in D365, and the invoices charged settled there
    assert re.search(r"the night: [1-9]\d* journal\(s\) posted in D365, invoices settled", out)
    settled = re.findall(r"(CIV-\d+)\W+US-\d+\W+([\d,.]+)\W+([\d,.]+)\W+([\d,.]+)\W+yes", out)
    assert [row[1:] for row in settled] == [
        ("240.00", "240.00", "0.00"),  # paid in full: closed
        ("500.00", "200.00", "300.00"),  # paid in part
        ("300.00", "150.00", "150.00"),  # two partial payments
    ]
    # recurring billing across a month boundary: each period due by the 1st billed once
    assert re.search(r"recurring billing across \w+ 31 → 1: each period invoiced, charged", out)
    billed = re.findall(r"(monthly on|yearly on|trial until)\W.*?│\s+(\d): (\d{4}-\d\d-\d\d)"
                        r".*?(CIV-\d+)\s+│\s+([\d,.]+)\s+│\s+(\d+)\s+│\s+charged", out)  # fmt: skip
    assert sorted((b[0], b[1], b[4]) for b in billed) == [
        ("monthly on", "0", "120.00"),  # the 15th
        ("monthly on", "0", "19.90"),  # the 1st
        ("monthly on", "0", "49.00"),  # the 31st
        ("trial until", "1", "29.00"),  # its first paid period starts on the 1st
        ("yearly on", "0", "990.00"),
    ]
    assert len({b[3] for b in billed}) == 5 and len({b[5] for b in billed}) == 5
    assert "5 invoiced, 5 charged, 5 posted; doubled 0, missed 0" in " ".join(out.split())
    assert re.search(r"\w+ 31 nothing due; \w+ 01 \{'charged': 3\}; \w+ 01 nothing due",
                     " ".join(out.split()))  # fmt: skip
    # dunning: a soft decline recovered by the day-1 retry, a hard one by a new card on the
    # e-mailed page; each customer told twice, D365's collections set and cleared
    flat = " ".join(out.split())
    assert "dunning in" in out and "every case recovered, each invoice charged once" in flat
    assert re.search(r"dunning.retry run with the clock at \w+ \w+ \d+ 10:00 local", flat)
    rows = {row: re.findall(rf"│ {row}\s+│\s+(.+?)\s+│\s+(.+?)\s+│", out) for row in
            ("customer", "decline", "class", "attempts", "outcome", "notices sent")}  # fmt: skip
    assert rows["decline"] == [("Insufficient funds", "Expired card")]
    assert rows["class"] == [("soft", "hard")]
    assert rows["attempts"] == [("2", "2")] and rows["outcome"] == [("recovered", "recovered")]
    assert rows["notices sent"] == [("payment_failed, recovered",) * 2]
    assert re.search(r"│ D365 collections\s+│\s+past_due → undone\s+│\s+past_due → undone\s+│", out)
    assert "revenue recovered: 148.00 of 148.00" in flat
    assert "doubled charges 0; card data found 0" in flat
    assert "new card entered by Chromium (Playwright)" in flat or "(no Chromium)" in flat
    log = (workdir / "var/demo/payledger.log").read_text()
    for card in ("4012000098765439", "5499740000000057", "6011000993026909"):
        assert card not in log


def test_status_shows_the_queue_and_dead_letters(workdir):
    assert payledger(workdir, "migrate").returncode == 0
    db = sqlite3.connect(workdir / "var/payledger.db")
    db.execute(
        "INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, created_at,"
        " history, last_error) VALUES ('payment.process', '{}', 'dead', '2026-01-01 00:00:00',"
        " 8, 8, '2026-01-01 00:00:00', '[]', 'RejectedError: customer US-999 does not exist')"
    )
    db.commit()
    result = payledger(workdir, "status")
    assert result.returncode == 0, result.stderr
    assert "payment.process" in result.stdout
    assert "US-999 does not exist" in result.stdout
    replayed = payledger(workdir, "replay", "--kind", "payment.process")
    assert "replayed 1 dead job(s)" in replayed.stdout
    assert "no dead letters" in payledger(workdir, "status").stdout
