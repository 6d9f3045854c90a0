"""``payledger tokens``: a token is printed once, listed without its value, and revocable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_cli import payledger


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "payledger.toml").write_text(
        '[database]\nurl = "sqlite:///var/payledger.db"\n[logging]\nfile = ""\n'
    )
    return tmp_path


def test_create_list_and_revoke_a_token(workdir):
    created = payledger(
        workdir, "tokens", "create", "--name", "webshop", "--scope", "payments:write",
        "--scope", "read",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("plt_") and len(token) > 40
    assert "not shown again" in " ".join(created.stderr.split())

    listed = payledger(workdir, "tokens", "list", env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    assert "webshop" in listed.stdout and "payments:write read" in listed.stdout
    assert "active" in listed.stdout
    assert token not in listed.stdout and token[:12] in listed.stdout

    with sqlite3.connect(workdir / "var/payledger.db") as db:
        stored = db.execute("SELECT token_hash FROM api_tokens").fetchall()
        assert all(token not in row[0] for row in stored)

    revoked = payledger(workdir, "tokens", "revoke", "1")
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in payledger(workdir, "tokens", "list", env={"COLUMNS": "200"}).stdout
    assert payledger(workdir, "tokens", "revoke", "1").returncode == 1


def test_an_unknown_scope_is_refused_naming_it(workdir):
    result = payledger(workdir, "tokens", "create", "--name", "shop", "--scope", "superuser")
    assert result.returncode == 2
    assert "superuser" in result.stderr and "admin" in result.stderr  # the known ones listed


def test_the_admin_scope_is_offered_and_accepted(workdir):
    helped = payledger(workdir, "tokens", "create", "--help", env={"COLUMNS": "200"})
    assert "admin" in helped.stdout

    created = payledger(workdir, "tokens", "create", "--name", "support", "--scope", "admin")

    assert created.returncode == 0, created.stderr
    listed = payledger(workdir, "tokens", "list", env={"COLUMNS": "200"})
    assert "support" in listed.stdout and "admin" in listed.stdout


def test_a_role_grants_its_scope_and_those_below_and_is_listed(workdir):
    created = payledger(workdir, "tokens", "create", "--name", "finance", "--role", "mapper")
    assert created.returncode == 0, created.stderr
    assert "read operate map" in created.stderr and "console role: mapper" in created.stderr
    listed = payledger(workdir, "tokens", "list", env={"COLUMNS": "200"})
    assert "read operate map" in listed.stdout and "mapper" in listed.stdout


def test_an_unknown_role_or_no_power_at_all_is_refused(workdir):
    unknown = payledger(workdir, "tokens", "create", "--name", "x", "--role", "root")
    assert unknown.returncode == 2 and "root" in unknown.stderr and "viewer" in unknown.stderr
    neither = payledger(workdir, "tokens", "create", "--name", "x")
    assert neither.returncode == 2 and "--role" in neither.stderr
    assert (
        not (workdir / "var/payledger.db").exists()
        or "x" not in payledger(workdir, "tokens", "list", env={"COLUMNS": "200"}).stdout.split()
    )
