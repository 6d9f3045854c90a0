"""The HashiCorp Vault provider (hvac) against the Vault sandbox over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from payledger.adapters.vault import SecretNotFound
from payledger.adapters.vault.hashicorp_vault import HashiCorpVaultSecretProvider
from payledger.domain.errors import ConfigError, RateLimited, TransientError
from payledger.sandbox.hashicorp_vault import DEFAULT_TOKEN

VALUE = "hv-Value-91c2"


async def test_a_secret_is_kept_at_the_prefixed_kv_path_and_versions_grow(hashicorp, vault_sandbox):
    await hashicorp.set("paytrace-password", VALUE, actor="ops")
    await hashicorp.set("paytrace-password", "rotated-Value", actor="ops")
    assert (await hashicorp.get("paytrace-password")).get_secret_value() == "rotated-Value"
    entry = vault_sandbox.entries[("secret", "payledger/paytrace-password")]
    assert entry.versions[1].data == {"value": VALUE}
    assert entry.versions[2].data == {"value": "rotated-Value"}
    info = await hashicorp.info("paytrace-password")
    assert info.version == "2"


async def test_a_missing_secret_is_secret_not_found_naming_the_path(hashicorp):
    with pytest.raises(SecretNotFound, match=r"secret/data/payledger/d365-client-secret"):
        await hashicorp.get("d365-client-secret")


async def test_delete_soft_deletes_the_latest_version(hashicorp, vault_sandbox):
    await hashicorp.set("alerts-webhook-url", VALUE, actor="ops")
    assert await hashicorp.delete("alerts-webhook-url", actor="ops") is True
    assert await hashicorp.delete("alerts-webhook-url", actor="ops") is False
    with pytest.raises(SecretNotFound):
        await hashicorp.get("alerts-webhook-url")
    version = vault_sandbox.entries[("secret", "payledger/alerts-webhook-url")].versions[1]
    assert version.deletion_time and version.data == {"value": VALUE}
    assert await hashicorp.list() == []


async def test_list_names_the_secrets_under_the_prefix_only(hashicorp, vault_url):
    for name in ("b-secret", "a-secret"):
        await hashicorp.set(name, VALUE, actor="ops")
    other = HashiCorpVaultSecretProvider(vault_url, lambda: DEFAULT_TOKEN, path_prefix="other")
    await other.set("c-secret", VALUE, actor="ops")
    listed = await hashicorp.list()
    assert [info.name for info in listed] == ["a-secret", "b-secret"]
    assert VALUE not in repr(listed)
    await other.aclose()


async def test_the_sandbox_lists_by_the_list_method_and_by_get_list_true(hashicorp, vault_url):
    await hashicorp.set("a-secret", VALUE, actor="ops")
    headers = {"X-Vault-Token": DEFAULT_TOKEN}
    async with httpx.AsyncClient(base_url=vault_url, headers=headers) as http:
        by_method = await http.request("LIST", "/v1/secret/metadata/payledger")
        by_query = await http.get("/v1/secret/metadata/payledger", params={"list": "true"})
        health = await http.get("/v1/sys/health")
    assert by_method.json()["data"]["keys"] == by_query.json()["data"]["keys"] == ["a-secret"]
    assert health.json()["sealed"] is False


async def test_a_wrong_token_is_a_config_error_saying_permission_denied(vault_url, vault_sandbox):
    provider = HashiCorpVaultSecretProvider(vault_url, lambda: "hvs.wrong")
    with pytest.raises(ConfigError, match="permission denied to get secret/data/payledger/x"):
        await provider.get("x")
    await provider.aclose()


async def test_a_policy_without_list_names_the_missing_capability(vault_url, vault_sandbox):
    vault_sandbox.settings.tokens["hvs.reader"] = frozenset({"read"})
    provider = HashiCorpVaultSecretProvider(vault_url, lambda: "hvs.reader")
    with pytest.raises(ConfigError, match="lacks the 'list' capability"):
        await provider.list()
    await provider.aclose()


async def test_throttling_is_retried_then_succeeds(hashicorp, vault_sandbox, sleep):
    await hashicorp.set("paytrace-password", VALUE, actor="ops")
    vault_sandbox.settings.fail_next = [429, 500]
    assert (await hashicorp.get("paytrace-password")).get_secret_value() == VALUE
    assert len(sleep.waits) == 2


async def test_throttling_that_outlasts_the_attempts_is_rate_limited(hashicorp, vault_sandbox):
    vault_sandbox.settings.fail_next = [429] * 6
    with pytest.raises(RateLimited):
        await hashicorp.get("paytrace-password")
    assert vault_sandbox.settings.fail_next == [429, 429]


async def test_a_sealed_vault_is_transient(hashicorp, vault_sandbox):
    vault_sandbox.settings.sealed = True
    with pytest.raises(TransientError, match="VaultDown"):
        await hashicorp.get("paytrace-password")


async def test_no_vault_listening_is_transient(sleep):
    provider = HashiCorpVaultSecretProvider(
        "http://127.0.0.1:9", lambda: DEFAULT_TOKEN, max_attempts=2, sleep=sleep
    )
    with pytest.raises(TransientError, match="ConnectionError"):
        await provider.get("paytrace-password")
    await provider.aclose()
