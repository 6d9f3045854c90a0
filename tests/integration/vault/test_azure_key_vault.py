"""The Azure Key Vault provider against the Key Vault sandbox, tokens from the sandbox tenant."""

from __future__ import annotations

import httpx
import pytest

from payledger.adapters.vault import AzureKeyVaultSecretProvider, SecretNotFound
from payledger.adapters.vault.azure_key_vault import checked_name
from payledger.config import Settings
from payledger.domain.errors import ConfigError, RateLimited, TransientError
from tests.integration.vault.conftest import VAULT_URL, entra_credential

VALUE = "kv-Value-7f3a"


async def test_a_secret_round_trips_and_keeps_versions(azure, keyvault):
    await azure.set("paytrace-password", VALUE, actor="ops")
    assert (await azure.get("paytrace-password")).get_secret_value() == VALUE
    first = await azure.info("paytrace-password")
    keyvault.tokens.state.clock.advance(5)
    await azure.set("paytrace-password", "rotated-Value", actor="ops")
    assert (await azure.get("paytrace-password")).get_secret_value() == "rotated-Value"
    second = await azure.info("paytrace-password")
    assert second.version != first.version
    assert len(keyvault.vault.live["paytrace-password"].versions) == 2
    assert keyvault.vault.live["paytrace-password"].versions[-1].tags == {"set-by": "ops"}


async def test_a_missing_secret_is_secret_not_found_naming_the_vault(azure):
    with pytest.raises(SecretNotFound, match=r"'d365-client-secret' is not in Azure Key Vault"):
        await azure.get("d365-client-secret")
    with pytest.raises(SecretNotFound):
        await azure.info("d365-client-secret")


async def test_delete_is_a_soft_delete_and_the_name_waits_for_purge(azure, keyvault):
    await azure.set("alerts-webhook-url", VALUE, actor="ops")
    assert await azure.delete("alerts-webhook-url", actor="ops") is True
    assert await azure.delete("alerts-webhook-url", actor="ops") is False
    with pytest.raises(SecretNotFound):
        await azure.get("alerts-webhook-url")
    assert "alerts-webhook-url" in keyvault.vault.deleted
    with pytest.raises(ConfigError, match=r"deleted but recoverable.*recover or purge"):
        await azure.set("alerts-webhook-url", VALUE, actor="ops")


async def test_list_follows_next_links_and_shows_no_value(azure, keyvault):
    keyvault.settings.page_size = 2
    names = [f"secret-{n}" for n in range(5)]
    for name in names:
        await azure.set(name, VALUE, actor="ops")
    requests_before = keyvault.vault.requests
    listed = await azure.list()
    assert [info.name for info in listed] == names
    assert keyvault.vault.requests - requests_before >= 3  # three pages of two
    assert VALUE not in repr(listed)


async def test_names_key_vault_refuses_are_refused_before_any_call(azure, keyvault):
    with pytest.raises(ConfigError, match="letters, digits and dashes"):
        await azure.get("webhooks.secret_1")
    assert keyvault.vault.requests == 0


def test_every_default_secret_name_fits_key_vault():
    settings = Settings()
    names = [
        settings.paytrace.password_secret,
        settings.d365.client_secret_secret,
        settings.d365.certificate_secret,
        settings.d365.private_key_secret,
        settings.api.business_events_secret,
        settings.alerts.webhook.url_secret,
        settings.alerts.smtp.password_secret,
        *settings.webhooks.paytrace_secrets,
        "dunning-link-key",
    ]
    assert [checked_name(name) for name in names] == names


async def test_an_app_without_the_get_permission_gets_a_config_error_naming_it(azure, keyvault):
    keyvault.settings.access = {"payledger-client": {"list"}}
    with pytest.raises(ConfigError) as refused:
        await azure.get("paytrace-password")
    message = str(refused.value)
    assert VAULT_URL in message
    assert "secrets get permission" in message


async def test_a_token_from_another_tenant_is_refused_with_a_clear_error(azure_transport, keyvault):
    keyvault.settings.tenant_id = "00000000-0000-0000-0000-000000000000"
    credential = entra_credential(azure_transport)
    provider = AzureKeyVaultSecretProvider(
        VAULT_URL, credential, http=httpx.AsyncClient(transport=azure_transport)
    )
    try:
        with pytest.raises(ConfigError, match="refused the Entra ID token"):
            await provider.get("paytrace-password")
    finally:
        await provider.aclose()
        await credential.aclose()


async def test_a_wrong_client_secret_is_a_config_error_naming_the_vault(azure_transport):
    credential = entra_credential(azure_transport, client_secret="wrong")
    provider = AzureKeyVaultSecretProvider(
        VAULT_URL, credential, http=httpx.AsyncClient(transport=azure_transport)
    )
    try:
        with pytest.raises(ConfigError, match=r"Azure Key Vault .*no access token"):
            await provider.get("paytrace-password")
    finally:
        await provider.aclose()
        await credential.aclose()


async def test_without_a_token_the_vault_answers_the_bearer_challenge(keyvault_app, keyvault):
    tenant_id = keyvault.tokens.state.settings.tenant_id
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keyvault_app), base_url=VAULT_URL
    ) as http:
        answer = await http.get("/secrets/paytrace-password", params={"api-version": "7.4"})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{tenant_id}", '
        'resource="https://vault.azure.net"'
    )


async def test_a_token_for_d365_is_not_a_token_for_the_vault(azure_transport, keyvault_app):
    credential = entra_credential(azure_transport, resource="https://login.sandbox.test")
    token = await credential.token()
    await credential.aclose()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keyvault_app), base_url=VAULT_URL
    ) as http:
        answer = await http.get(
            "/secrets", params={"api-version": "7.4"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 401
    assert "audience" in answer.json()["error"]["message"]


async def test_throttling_is_waited_out_as_retry_after_says(azure, keyvault, sleep):
    await azure.set("paytrace-password", VALUE, actor="ops")
    keyvault.settings.retry_after_s = 3
    keyvault.settings.fail_next = [429, 429]
    assert (await azure.get("paytrace-password")).get_secret_value() == VALUE
    assert sleep.waits == [3.0, 3.0]


async def test_throttling_that_outlasts_the_attempts_is_rate_limited(azure, keyvault):
    keyvault.settings.fail_next = [429] * 10
    with pytest.raises(RateLimited) as throttled:
        await azure.get("paytrace-password")
    assert throttled.value.retry_after == 1.0
    assert keyvault.settings.fail_next == [429] * 6  # four attempts made


async def test_server_errors_are_retried_then_transient(azure, keyvault, sleep):
    await azure.set("paytrace-password", VALUE, actor="ops")
    keyvault.settings.fail_next = [503]
    assert (await azure.get("paytrace-password")).get_secret_value() == VALUE
    keyvault.settings.fail_next = [500] * 4
    with pytest.raises(TransientError):
        await azure.get("paytrace-password")
    assert len(sleep.waits) == 4
