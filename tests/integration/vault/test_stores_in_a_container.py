"""A whole payledger container on each external store, over TCP: PayTrace's password comes from
the store, a rotation is picked up after ``cache_seconds`` without a restart, ``doctor`` checks
the store, ``payledger secrets`` works against it, and no value is ever shown or logged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from payledger.adapters.vault.cache import CachedSecrets
from payledger.bootstrap import Container, build
from payledger.cli.main import app
from payledger.config import Settings
from payledger.doctor.access import probe_vault
from payledger.domain.clock import ManualClock
from payledger.domain.errors import AuthError
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import write_self_signed_certificate
from payledger.sandbox.hashicorp_vault import DEFAULT_TOKEN, HashiCorpVaultSandbox
from payledger.sandbox.hashicorp_vault import create_app as create_hashicorp_vault
from payledger.sandbox.keyvault import KeyVaultSandbox
from payledger.sandbox.keyvault import create_app as create_keyvault
from payledger.sandbox.paytrace import create_app as create_paytrace
from tests.integration.vault.conftest import CLIENT_ID, CLIENT_SECRET, TENANT
from tests.serving import serving

PROVIDERS = ["azure_key_vault", "hashicorp_vault"]
PASSWORD = "demo123"
STALE = "Stale-Pa55word-x81"


@dataclass
class Stack:
    paytrace: str
    d365: str
    cert: Path
    keyvault_url: str
    keyvault: KeyVaultSandbox
    vault_url: str
    vault: HashiCorpVaultSandbox


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, signing_key_pem: str) -> Iterator[Stack]:
    cert, key = write_self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with ExitStack() as running:
        paytrace = running.enter_context(serving(create_paytrace()))
        d365_app = create_d365(
            D365SandboxSettings(signing_key_pem=signing_key_pem, seed_demo_data=False)
        )
        d365 = running.enter_context(
            serving(d365_app, ssl_certfile=str(cert), ssl_keyfile=str(key))
        )
        keyvault_app = create_keyvault(None, d365_app.state.sandbox.tokens)
        keyvault_url = running.enter_context(serving(keyvault_app))
        vault_app = create_hashicorp_vault()
        vault_url = running.enter_context(serving(vault_app, http="h11"))
        yield Stack(
            paytrace,
            d365,
            cert,
            keyvault_url,
            keyvault_app.state.sandbox,
            vault_url,
            vault_app.state.sandbox,
        )


def sections(stack: Stack, tmp_path: Path, provider: str) -> dict[str, Any]:
    """The configuration of a payledger that keeps its secrets in ``provider``."""
    secret_file, token_file = tmp_path / "client-secret", tmp_path / "vault-token"
    secret_file.write_text(CLIENT_SECRET)
    token_file.write_text(DEFAULT_TOKEN)
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'payledger.db'}"},
        "logging": {"file": str(tmp_path / "payledger.log")},
        "vault": {
            "provider": provider,
            "cache_seconds": 300,
            "azure_key_vault": {
                "vault_url": stack.keyvault_url,
                "client_secret_file": str(secret_file),
            },
            "hashicorp_vault": {"url": stack.vault_url, "token_file": str(token_file)},
        },
        "paytrace": {
            "enabled": True,
            "base_url": stack.paytrace,
            "username": "demo123",
            "integrator_id": "9575315uXt4u",
        },
        "d365": {
            "tenant": TENANT,
            "client_id": CLIENT_ID,
            "base_url": stack.d365,
            "authority_host": stack.d365,
            "ca_file": str(stack.cert),
        },
    }


def to_toml(tables: dict[str, Any], prefix: str = "") -> str:
    """Sections of scalars and sub-sections as TOML (JSON scalars are valid TOML)."""
    text = ""
    for name, table in tables.items():
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        text += f"[{prefix}{name}]\n" + "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in scalars.items()
        )
        text += to_toml({k: v for k, v in table.items() if isinstance(v, dict)}, f"{prefix}{name}.")
    return text


@pytest.fixture
async def opened(stack: Stack, tmp_path: Path):
    containers: list[Container] = []

    async def open_one(provider: str, clock: ManualClock | None = None) -> Container:
        stack.keyvault.vault.live.clear()
        stack.keyvault.vault.deleted.clear()
        stack.keyvault.settings.access = None
        stack.vault.entries.clear()
        container = build(Settings(**sections(stack, tmp_path, provider)), clock=clock)
        await container.prepare()
        containers.append(container)
        return container

    yield open_one
    for container in containers:
        await container.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_rotated_paytrace_password_is_used_after_the_cache_expires(opened, provider):
    clock = ManualClock(datetime(2026, 3, 24, 17, 0, tzinfo=UTC))
    container = await opened(provider, clock)
    assert isinstance(container.vault, CachedSecrets)
    await container.vault.set("paytrace-password", STALE, actor="test")
    stale = await container.paytrace_client()
    with pytest.raises(AuthError):
        await stale.tokens.get()

    await container.vault.inner.set("paytrace-password", PASSWORD, actor="operator")
    clock.advance(seconds=299)
    assert await container.paytrace_client() is stale  # still within cache_seconds
    clock.advance(seconds=2)
    fresh = await container.paytrace_client()
    assert fresh is not stale
    assert await fresh.tokens.get()  # logged in with the rotated password, no restart


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_rotated_d365_client_secret_is_used_without_a_restart(opened, provider):
    clock = ManualClock(datetime(2026, 3, 24, 17, 0, tzinfo=UTC))
    container = await opened(provider, clock)
    assert isinstance(container.vault, CachedSecrets)
    await container.vault.set("d365-client-secret", STALE, actor="test")
    credential = (await container.d365_client()).credential
    with pytest.raises(AuthError):
        await credential.token()

    await container.vault.inner.set("d365-client-secret", CLIENT_SECRET, actor="operator")
    clock.advance(seconds=301)
    assert await credential.token()  # the same client, now with the rotated secret


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refused_d365_token_rereads_the_secret_at_once(opened, provider):
    clock = ManualClock(datetime(2026, 3, 24, 17, 0, tzinfo=UTC))
    container = await opened(provider, clock)
    await container.vault.set("d365-client-secret", STALE, actor="test")
    credential = (await container.d365_client()).credential
    with pytest.raises(AuthError):
        await credential.token()

    await container.vault.inner.set("d365-client-secret", CLIENT_SECRET, actor="operator")
    await credential.invalidate()  # what the client does when D365 answers 401
    assert await credential.token()  # within cache_seconds, yet the rotated secret is used


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_doctor_passes_when_the_store_holds_what_the_config_names(opened, provider):
    container = await opened(provider)
    await container.vault.set("paytrace-password", STALE, actor="test")
    findings = {f.name: f for f in await probe_vault(container)}
    assert findings["secret store"].ok, findings["secret store"].detail
    assert findings["secret paytrace-password"].ok
    assert STALE not in repr(findings)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_doctor_fails_a_missing_secret_with_the_command_that_stores_it(opened, provider):
    container = await opened(provider)
    findings = {f.name: f for f in await probe_vault(container)}
    assert findings["secret store"].ok
    missing = findings["secret paytrace-password"]
    assert not missing.ok
    assert missing.hint == "echo -n VALUE | payledger secrets set paytrace-password"


async def test_doctor_fails_a_key_vault_the_app_may_not_read(opened, stack):
    container = await opened("azure_key_vault")
    stack.keyvault.settings.access = {CLIENT_ID: {"get"}}
    findings = {f.name: f for f in await probe_vault(container)}
    store = findings["secret store"]
    assert not store.ok
    assert "secrets list permission" in store.detail
    assert "Key Vault Secrets User" in store.hint


async def test_doctor_fails_a_vault_token_that_is_refused(opened, stack, tmp_path):
    container = await opened("hashicorp_vault")
    (tmp_path / "vault-token").write_text("hvs.revoked")
    findings = {f.name: f for f in await probe_vault(container)}
    store = findings["secret store"]
    assert not store.ok
    assert "permission denied" in store.detail
    assert "VAULT_TOKEN" in store.hint


@pytest.mark.parametrize("provider", PROVIDERS)
def test_secrets_commands_work_against_the_store_and_never_show_a_value(
    stack: Stack, tmp_path: Path, provider: str
):
    stack.keyvault.vault.live.clear()
    stack.vault.entries.clear()
    config = tmp_path / "payledger.toml"
    config.write_text(to_toml(sections(stack, tmp_path, provider)))
    runner = CliRunner()

    def payledger(*args: str, stdin: str | None = None) -> Any:
        return runner.invoke(app, ["--config", str(config), *args], input=stdin)

    stored = payledger("secrets", "set", "paytrace-password", stdin=STALE + "\n")
    assert stored.exit_code == 0, stored.output
    info = payledger("secrets", "get-info", "paytrace-password")
    assert info.exit_code == 0, info.output
    assert f"in the {provider} store" in info.output
    listed = payledger("secrets", "list")
    assert "paytrace-password" in listed.output
    missing = payledger("secrets", "get-info", "d365-client-secret")
    assert missing.exit_code == 2
    doctor = payledger("doctor")
    assert "secret paytrace-password" in doctor.output
    outputs = [stored, info, listed, missing, doctor]
    assert all(STALE not in result.output for result in outputs)
    log = tmp_path / "payledger.log"
    assert STALE not in (log.read_text() if log.exists() else "")
    rotate = payledger("secrets", "rotate")
    assert rotate.exit_code == 2
    assert "rotate secrets in the external store" in rotate.output
