"""The secret stores' sandboxes: Key Vault in-process (ASGI) beside the D365 tenant that signs
its tokens, HashiCorp Vault under a real uvicorn server (hvac speaks ``requests``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from payledger.adapters.d365 import EntraIdCredential
from payledger.adapters.vault import AzureKeyVaultSecretProvider
from payledger.adapters.vault.hashicorp_vault import HashiCorpVaultSecretProvider
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.hashicorp_vault import (
    DEFAULT_TOKEN,
    HashiCorpVaultSandbox,
    VaultSandboxSettings,
)
from payledger.sandbox.hashicorp_vault import create_app as create_hashicorp_vault
from payledger.sandbox.keyvault import KeyVaultSandbox
from payledger.sandbox.keyvault import create_app as create_keyvault
from tests.serving import serving

LOGIN = "https://login.sandbox.test"
VAULT_URL = "https://payledger.vault.azure.net"
TENANT = "payledger-sandbox"
CLIENT_ID = "payledger-client"
CLIENT_SECRET = "payledger-secret"


class ByHost(httpx.AsyncBaseTransport):
    """Sends each request to the ASGI app serving its host, as DNS would."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[request.url.host].handle_async_request(request)


@pytest.fixture
def d365_app(signing_key_pem: str) -> Any:
    return create_d365(D365SandboxSettings(signing_key_pem=signing_key_pem, seed_demo_data=False))


@pytest.fixture
def keyvault_app(d365_app: Any) -> Any:
    return create_keyvault(None, d365_app.state.sandbox.tokens)


@pytest.fixture
def keyvault(keyvault_app: Any) -> KeyVaultSandbox:
    sandbox: KeyVaultSandbox = keyvault_app.state.sandbox
    return sandbox


@pytest.fixture
def azure_transport(d365_app: Any, keyvault_app: Any) -> ByHost:
    return ByHost({"login.sandbox.test": d365_app, "payledger.vault.azure.net": keyvault_app})


def entra_credential(transport: httpx.AsyncBaseTransport, **overrides: Any) -> EntraIdCredential:
    options: dict[str, Any] = {
        "tenant": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "resource": "https://vault.azure.net",
        "authority_host": LOGIN,
        "transport": transport,
        **overrides,
    }
    return EntraIdCredential(**options)


class RecordedSleep:
    """Records the waits a provider asks for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
async def azure(
    azure_transport: ByHost, sleep: RecordedSleep
) -> AsyncIterator[AzureKeyVaultSecretProvider]:
    credential = entra_credential(azure_transport)
    http = httpx.AsyncClient(transport=azure_transport)
    provider = AzureKeyVaultSecretProvider(VAULT_URL, credential, http=http, sleep=sleep)
    yield provider
    await provider.aclose()
    await credential.aclose()


@pytest.fixture(scope="session")
def vault_server() -> Iterator[tuple[str, HashiCorpVaultSandbox]]:
    """One Vault sandbox over real HTTP for the run (h11: it must accept ``LIST``)."""
    app = create_hashicorp_vault()
    with serving(app, http="h11") as url:
        yield url, app.state.sandbox


@pytest.fixture
def vault_sandbox(vault_server: tuple[str, HashiCorpVaultSandbox]) -> HashiCorpVaultSandbox:
    sandbox = vault_server[1]
    sandbox.entries.clear()
    sandbox.settings = VaultSandboxSettings()
    return sandbox


@pytest.fixture
def vault_url(vault_server: tuple[str, HashiCorpVaultSandbox]) -> str:
    return vault_server[0]


@pytest.fixture
async def hashicorp(
    vault_url: str, vault_sandbox: HashiCorpVaultSandbox, sleep: RecordedSleep
) -> AsyncIterator[HashiCorpVaultSecretProvider]:
    provider = HashiCorpVaultSecretProvider(vault_url, lambda: DEFAULT_TOKEN, sleep=sleep)
    yield provider
    await provider.aclose()
