"""The go-live checks against both sandboxes served over TCP (D365 over https), as configured.

The container builds its connectors from configuration URLs, so the sandboxes run under
uvicorn on loopback ports in background threads, once for the module.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from payledger.bootstrap import Container, build
from payledger.config import Settings
from payledger.doctor.configure import CheckResult, discretionary_check, doctor, template_issues
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import write_self_signed_certificate
from payledger.sandbox.paytrace import create_app as create_paytrace

D365_SECRET = "payledger-secret"


@dataclass(frozen=True)
class Sandboxes:
    paytrace: str
    d365: str
    cert: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(app: Any, port: int, **tls: str) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        **tls,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    return server, thread


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxes]:
    cert, key = write_self_signed_certificate(tmp_path_factory.mktemp("tls"))
    pt_port, d365_port = _free_port(), _free_port()
    d365_url = f"https://127.0.0.1:{d365_port}"
    servers = [
        _serve(create_paytrace(), pt_port),
        _serve(
            create_d365(D365SandboxSettings(base_url=d365_url)),
            d365_port,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
        ),
    ]
    yield Sandboxes(f"http://127.0.0.1:{pt_port}", d365_url, cert)
    for server, _ in servers:
        server.should_exit = True
    for _, thread in servers:
        thread.join(timeout=10)


def configured(sandboxes: Sandboxes, tmp_path: Path, **changes: dict[str, Any]) -> Settings:
    """Settings pointing at the sandboxes (the README's "Going live" file), with changes."""
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": f"sqlite:///{tmp_path / 'payledger.db'}"},
        "vault": {"key_file": tmp_path / "master.key"},
        "paytrace": {
            "enabled": True,
            "base_url": sandboxes.paytrace,
            "username": "demo123",
            "integrator_id": "9575315uXt4u",
        },
        "d365": {
            "enabled": True,
            "base_url": sandboxes.d365,
            "authority_host": sandboxes.d365,
            "tenant": "payledger-sandbox",
            "client_id": "payledger-client",
            "ca_file": sandboxes.cert,
        },
    }
    for section, values in changes.items():
        sections[section] = {**sections.get(section, {}), **values}
    return Settings(**sections)


async def close(container: Container) -> None:
    # Container.aclose() closes the D365 client but not its credential's HTTP client (reported).
    try:
        credential = (await container.d365_client()).credential
    except Exception:  # no secret, no schema: no client was built
        credential = None
    await container.aclose()
    if credential is not None:
        await credential.aclose()


async def opened(
    settings: Settings, secrets: dict[str, str] | None = None, *, migrated: bool = True
) -> Container:
    container = build(settings)
    if migrated:
        await container.prepare()
    for name, value in (secrets or {}).items():
        await container.vault.set(name, value, actor="test")
    return container


SECRETS = {"paytrace-password": "demo123", "d365-client-secret": D365_SECRET}


@pytest.fixture
async def ready(sandboxes: Sandboxes, tmp_path: Path) -> AsyncIterator[Container]:
    container = await opened(configured(sandboxes, tmp_path), SECRETS)
    yield container
    await close(container)


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


async def test_doctor_passes_against_both_sandboxes(ready: Container):
    results = by_name(await doctor(ready))

    assert [r.name for r in results.values() if r.status == "FAIL"] == []
    for name in (
        "database",
        "vault master key",
        "secret paytrace-password",
        "secret d365-client-secret",
        "PayTrace ping",
        "PayTrace login",
        "D365 token",
        "D365 $metadata",
        "company",
        "entity sets",
        "payment journal name",
        "method of payment",
        "clearing account (Bank)",
        "customer group",
        "extension field customer_paytrace_id",
        "extension field order_payment_status",
        "PayTrace discretionary titles",
        "mapping templates",
    ):
        assert results[name].status == "ok", results[name]
    # The sandbox exposes no JournalNames/BankAccounts/MainAccounts entity and nothing uses
    # these values yet: not verifiable without creating something, which doctor never does.
    skipped = {r.name for r in results.values() if r.status == "skip"}
    assert skipped == {"general journal name", "deposit account (Bank)", "fee account (Ledger)"}
    assert "JournalNames" in results["general journal name"].detail
    assert "Journal names" in results["general journal name"].hint
    assert results["mapping templates"].detail.endswith("and D365 $metadata")
    phases = [r.phase for r in results.values()]
    assert phases[0] == "access" and phases[-1] == "validate"


async def test_a_wrong_d365_secret_fails_the_token_check_with_a_hint(
    sandboxes: Sandboxes, tmp_path: Path
):
    container = await opened(
        configured(sandboxes, tmp_path), {**SECRETS, "d365-client-secret": "not-the-secret"}
    )
    try:
        results = by_name(await doctor(container))
    finally:
        await close(container)

    token = results["D365 token"]
    assert token.status == "FAIL"
    assert "AADSTS7000215" in token.detail and "not-the-secret" not in token.detail
    assert "payledger secrets set d365-client-secret" in token.hint
    assert results["D365 setup"].status == "skip"
    assert "D365 $metadata" not in results
    assert results["PayTrace login"].status == "ok"
    assert "offline" in results["mapping templates"].detail


async def test_a_misconfigured_extension_field_fails_naming_it(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(
        sandboxes, tmp_path, d365={"fields": {"customer_paytrace_id": "PayTraceCustomerNo"}}
    )
    container = await opened(settings, SECRETS)
    try:
        results = by_name(await doctor(container))
    finally:
        await close(container)

    field = results["extension field customer_paytrace_id"]
    assert field.status == "FAIL"
    assert field.detail == "CustomersV3 has no property PayTraceCustomerNo"
    assert "[d365.fields] customer_paytrace_id" in field.hint
    mapping = results["mapping templates"]
    assert mapping.status == "FAIL" and "PayTraceCustomerNo" in mapping.detail
    assert "payledger mapping check" in mapping.hint


async def test_a_company_without_setup_and_an_unknown_method_of_payment_fail(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(sandboxes, tmp_path, d365={"company": "DEMF", "payment_method": "PIX"})
    container = await opened(settings, SECRETS)
    try:
        results = by_name(await doctor(container))
    finally:
        await close(container)

    assert results["company"].status == "FAIL"
    assert "'demf' not found" in results["company"].detail
    assert "dataAreaId" in results["company"].hint
    method = results["method of payment"]
    assert method.status == "FAIL" and "'PIX' not found in CustomerPaymentMethods" in method.detail
    assert "Methods of payment" in method.hint


async def test_the_payment_journal_name_is_found_through_the_methods_of_payment(ready: Container):
    journal = by_name(await doctor(ready))["payment journal name"]

    assert journal.status == "ok"
    assert "CustomerPaymentMethods.PaymentJournalName" in journal.detail


async def test_a_wrong_paytrace_password_fails_the_login_with_a_hint(
    sandboxes: Sandboxes, tmp_path: Path
):
    container = await opened(
        configured(sandboxes, tmp_path), {**SECRETS, "paytrace-password": "wrong"}
    )
    try:
        results = by_name(await doctor(container))
    finally:
        await close(container)

    assert results["PayTrace ping"].status == "ok"
    login = results["PayTrace login"]
    assert login.status == "FAIL" and "wrong" not in login.detail
    assert "payledger secrets set paytrace-password" in login.hint


async def test_missing_secrets_and_master_key_fail_before_any_connector(
    sandboxes: Sandboxes, tmp_path: Path
):
    container = await opened(configured(sandboxes, tmp_path))
    try:
        results = by_name(await doctor(container))
    finally:
        await close(container)

    key = results["vault master key"]
    assert key.status == "FAIL" and "payledger secrets set" in key.hint
    assert results["PayTrace"].status == "FAIL"
    assert results["D365 token"].status == "FAIL"
    assert results["D365 token"].hint == "fix the vault first"


async def test_a_master_key_file_others_can_read_fails(sandboxes: Sandboxes, tmp_path: Path):
    settings = configured(sandboxes, tmp_path)
    container = await opened(settings, SECRETS)
    os.chmod(settings.vault.key_file, 0o644)
    try:
        key = by_name(await doctor(container))["vault master key"]
    finally:
        await close(container)

    assert key.status == "FAIL" and "0o644" in key.detail
    assert key.hint == f"chmod 600 {settings.vault.key_file}"


async def test_an_unmigrated_database_fails_with_the_migrate_hint(
    sandboxes: Sandboxes, tmp_path: Path
):
    container = await opened(configured(sandboxes, tmp_path), migrated=False)
    try:
        results = by_name(await doctor(container))
    finally:
        await close(container)

    assert results["database"].status == "FAIL"
    assert "payledger migrate" in results["database"].hint
    assert results["vault"].status == "skip"


def test_discretionary_titles_must_hold_the_order_and_customer_titles():
    too_many = Settings(paytrace={"discretionary_titles": [f"T{i}" for i in range(7)]})
    result = discretionary_check(too_many)

    assert result.status == "FAIL"
    assert "at most 6" in result.detail
    assert "order_title 'D365 Order' is not one of discretionary_titles" in result.detail
    assert "customer_title 'D365 Customer'" in result.detail
    assert discretionary_check(Settings()).status == "ok"


async def test_template_issues_is_empty_for_the_defaults_against_the_sandbox(ready: Container):
    assert await template_issues(ready) == []


def customer_with_unknown_field() -> str:
    """The default customer template plus a field CustomersV3 does not have."""
    default = resources.files("payledger.mapping") / "specs" / "d365_customer.yaml"
    return default.read_text() + "  CustomerNickname: {path: customer.name, optional: true}\n"


async def test_an_unknown_target_field_names_template_and_field(
    sandboxes: Sandboxes, tmp_path: Path
):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "d365_customer.yaml").write_text(customer_with_unknown_field())
    settings = configured(sandboxes, tmp_path, mapping={"templates_dir": folder})
    container = await opened(settings, SECRETS)
    try:
        online = await template_issues(container)
        offline = await template_issues(container, offline=True)
    finally:
        await close(container)

    assert [(i.template, i.field) for i in online] == [("d365_customer", "CustomerNickname")]
    assert online[0].reason == "CustomersV3 has no property CustomerNickname"
    assert offline == []  # D365 fields are only known from $metadata


async def test_offline_checks_need_no_d365_and_report_every_broken_file(tmp_path: Path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.yaml").write_text("template: a\ntarget: {system: d365, entity: X}\nfieldz: {}\n")
    (folder / "b.yaml").write_text("template: b\nfields: {X: {path: payment.amount\n")
    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'payledger.db'}"},
        mapping={"templates_dir": folder},
        d365={"base_url": "https://127.0.0.1:9"},
    )
    container = build(settings)
    try:
        broken = await template_issues(container)
        (folder / "a.yaml").unlink()
        (folder / "b.yaml").write_text(
            "template: b\ntarget: {system: d365, entity: X}\nfields: {Y: {path: payment.amout}}\n"
        )
        unknown_source = await template_issues(container)
    finally:
        await close(container)

    assert [i.template for i in broken] == ["a", "b.yaml"]
    assert "unknown key 'fieldz'" in broken[0].reason
    assert "not valid YAML" in broken[1].reason
    assert [(i.template, i.field) for i in unknown_source] == [("b", "Y")]
    assert "unknown source path payment.amout" in unknown_source[0].reason
