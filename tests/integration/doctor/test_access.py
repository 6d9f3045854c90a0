"""The access phase: database, vault, PayTrace and D365 reachable with what is configured."""

from __future__ import annotations

import os
from pathlib import Path

from payledger import doctor
from tests.integration.doctor.conftest import (
    SECRETS,
    Sandboxes,
    by_name,
    close,
    configured,
    diagnosed,
    opened,
)


async def test_a_wrong_d365_secret_fails_the_token_probe_with_a_hint(
    sandboxes: Sandboxes, tmp_path: Path
):
    findings = await diagnosed(
        configured(sandboxes, tmp_path), {**SECRETS, "d365-client-secret": "not-the-secret"}
    )

    token = findings["D365 token"]
    assert token.status == "FAIL"
    assert "AADSTS7000215" in token.detail and "not-the-secret" not in token.detail
    assert "payledger secrets set d365-client-secret" in token.hint
    assert findings["D365 setup"].status == "skip"
    assert "D365 $metadata" not in findings
    assert findings["PayTrace login"].status == "ok"
    assert "offline" in findings["mapping templates"].detail


async def test_a_wrong_paytrace_password_fails_the_login_with_a_hint(
    sandboxes: Sandboxes, tmp_path: Path
):
    findings = await diagnosed(
        configured(sandboxes, tmp_path), {**SECRETS, "paytrace-password": "wrong"}
    )

    assert findings["PayTrace ping"].status == "ok"
    login = findings["PayTrace login"]
    assert login.status == "FAIL" and "wrong" not in login.detail
    assert "payledger secrets set paytrace-password" in login.hint


async def test_missing_secrets_and_master_key_fail_before_any_connector(
    sandboxes: Sandboxes, tmp_path: Path
):
    findings = await diagnosed(configured(sandboxes, tmp_path))

    key = findings["vault master key"]
    assert key.status == "FAIL" and "payledger secrets set" in key.hint
    assert findings["PayTrace"].status == "FAIL"
    assert findings["D365 token"].status == "FAIL"
    assert findings["D365 token"].hint == "fix the vault first"


async def test_a_master_key_file_others_can_read_fails(sandboxes: Sandboxes, tmp_path: Path):
    settings = configured(sandboxes, tmp_path)
    container = await opened(settings, SECRETS)
    os.chmod(settings.vault.key_file, 0o644)
    try:
        key = by_name(await doctor.run(container))["vault master key"]
    finally:
        await close(container)

    assert key.status == "FAIL" and "0o644" in key.detail
    assert key.hint == f"chmod 600 {settings.vault.key_file}"
