"""deploy/systemd: a serve unit and a worker template, hardened, timer-free, running real
payledger commands with real configuration variables, and clean under systemd-analyze."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.surface import ROOT, command_problems, variable_problems

UNITS = ROOT / "deploy/systemd"
SERVE, WORKER = UNITS / "payledger-serve.service", UNITS / "payledger-worker@.service"
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "User": "payledger",
}


def directives(unit: Path) -> list[tuple[str, str]]:
    lines = (line.strip() for line in unit.read_text().splitlines())
    return [
        (key, value)
        for key, _, value in (line.partition("=") for line in lines)
        if value and not key.startswith(("#", ";", "["))
    ]


def test_there_are_a_serve_unit_and_a_worker_template_and_no_timers():
    assert sorted(p.name for p in UNITS.iterdir()) == [SERVE.name, WORKER.name]


@pytest.mark.parametrize("unit", [SERVE, WORKER], ids=lambda p: p.name)
def test_each_unit_runs_a_real_payledger_command(unit):
    (start,) = [value for key, value in directives(unit) if key == "ExecStart"]
    binary, *argv = shlex.split(start)
    assert binary.endswith("/bin/payledger")
    assert command_problems(argv) == []


@pytest.mark.parametrize("unit", [SERVE, WORKER], ids=lambda p: p.name)
def test_each_unit_sets_only_configuration_keys(unit):
    names = [
        value.split("=", 1)[0]
        for key, value in directives(unit)
        if key == "Environment" and value.startswith("PAYLEDGER_")
    ]
    assert "PAYLEDGER_VAULT__KEY_FILE" in names
    assert variable_problems([n for n in names if n != "PAYLEDGER_CONFIG"]) == []


@pytest.mark.parametrize("unit", [SERVE, WORKER], ids=lambda p: p.name)
def test_each_unit_is_hardened_and_reads_its_secrets_as_credentials(unit):
    found = dict(directives(unit))
    assert {key: found.get(key) for key in HARDENING} == HARDENING
    assert found["EnvironmentFile"].lstrip("-") == "/etc/payledger/payledger.env"
    credential, _, _ = found["LoadCredential"].partition(":")
    environment = [value for key, value in directives(unit) if key == "Environment"]
    # the master key is read from systemd's credentials directory (%d), not the environment
    assert f"PAYLEDGER_VAULT__KEY_FILE=%d/{credential}" in environment


def test_systemd_analyze_verifies_both_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    payledger = Path(sys.executable).parent / "payledger"
    assert payledger.is_file(), "the test venv has no payledger script"
    # verify checks that ExecStart exists: point it at this venv's payledger
    for unit, name in [(SERVE, SERVE.name), (WORKER, "payledger-worker@1.service")]:
        text = unit.read_text().replace("/opt/payledger/bin/payledger", str(payledger))
        (tmp_path / name).write_text(text)
    verified = subprocess.run(
        [analyze, "verify", "--man=no", SERVE.name, "payledger-worker@1.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "not been booted with systemd" in verified.stderr:
        pytest.skip(f"systemd-analyze verify needs systemd: {verified.stderr.strip()}")
    # warnings (unknown keys, bad values) leave the status 0 but are printed
    assert (verified.returncode, verified.stderr, verified.stdout) == (0, "", "")


def test_the_verify_would_catch_a_mistake(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    broken = SERVE.read_text().replace("Type=exec", "Type=eventually")
    (tmp_path / SERVE.name).write_text(broken)
    verified = subprocess.run(
        [analyze, "verify", "--man=no", SERVE.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Failed to parse service type" in verified.stderr
