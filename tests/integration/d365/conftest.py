"""The D365 connector against the F&O sandbox, in-process (ASGI) or over TCP (uvicorn + TLS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from payledger.adapters.d365 import D365Client, D365Ledger, D365Settings, EntraIdCredential
from payledger.adapters.d365.throttle import RetryPolicy
from payledger.bench.postgres import free_port
from payledger.flows.post_payment import PostingTemplates
from payledger.sandbox.d365 import D365Sandbox, D365SandboxSettings, create_app
from payledger.sandbox.d365.tls import write_self_signed_certificate
from tests.integration.d365.journals import posting_templates
from tests.serving import serving

BASE = "https://d365.sandbox.test"
TENANT = "payledger-sandbox"
CLIENT_ID = "payledger-client"
CLIENT_SECRET = "payledger-secret"


class DeadlineTransport(httpx.AsyncBaseTransport):
    """``ASGITransport`` ignores timeouts; enforce the read timeout as a socket would."""

    def __init__(self, inner: httpx.AsyncBaseTransport, default_timeout: float = 5.0) -> None:
        self.inner = inner
        self.default_timeout = default_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = (request.extensions.get("timeout") or {}).get("read") or self.default_timeout
        try:
            return await asyncio.wait_for(self.inner.handle_async_request(request), timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer within the read timeout", request=request) from None


@pytest.fixture
def sandbox_settings(signing_key_pem: str) -> D365SandboxSettings:
    return D365SandboxSettings(signing_key_pem=signing_key_pem)


@pytest.fixture
def sandbox_app(sandbox_settings: D365SandboxSettings):
    return create_app(sandbox_settings)


@pytest.fixture
def sandbox(sandbox_app) -> D365Sandbox:
    return sandbox_app.state.sandbox


@pytest.fixture
def transport(sandbox_app) -> DeadlineTransport:
    return DeadlineTransport(httpx.ASGITransport(app=sandbox_app))


@pytest.fixture
async def control(transport: DeadlineTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


@pytest.fixture
async def credential(transport: DeadlineTransport) -> AsyncIterator[EntraIdCredential]:
    credential = EntraIdCredential(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        resource=BASE,
        authority_host=BASE,
        transport=transport,
    )
    yield credential
    await credential.aclose()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture
async def client(
    credential: EntraIdCredential, transport: DeadlineTransport, fast_retry: RetryPolicy
) -> AsyncIterator[D365Client]:
    async with D365Client(
        BASE, credential, transport=transport, retry=fast_retry, timeout=5.0
    ) as d365:
        yield d365


@pytest.fixture
def ledger(client: D365Client) -> D365Ledger:
    return D365Ledger(
        client,
        D365Settings(
            company="usmf",
            customer_gateway_id_field="PayTraceCustomerId",
            order_payment_status_field="PaymentStatus",
        ),
    )


@dataclass
class LiveSandbox:
    base_url: str
    cert_path: Path
    sandbox: D365Sandbox


@pytest.fixture(scope="session")
def live_sandbox(
    tmp_path_factory: pytest.TempPathFactory, signing_key_pem: str
) -> Iterator[LiveSandbox]:
    """The sandbox under a real uvicorn server on a free loopback port, serving https."""
    cert_path, key_path = write_self_signed_certificate(tmp_path_factory.mktemp("tls"))
    port = free_port()
    base_url = f"https://127.0.0.1:{port}"
    app = create_app(D365SandboxSettings(signing_key_pem=signing_key_pem, base_url=base_url))
    with serving(
        app, port, ssl_certfile=str(cert_path), ssl_keyfile=str(key_path), timeout_keep_alive=1
    ):
        yield LiveSandbox(base_url, cert_path, app.state.sandbox)


@pytest.fixture
def templates() -> PostingTemplates:
    """The default posting templates (a test module may override them)."""
    return posting_templates()
