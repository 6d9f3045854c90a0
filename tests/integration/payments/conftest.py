"""The payments API and D365 business events against both sandboxes on loopback (D365 over TLS),
with payledger's real container on a real database."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import postings
from payledger.adapters.paytrace import PayTraceClient, PayTraceEncryptedCard
from payledger.bootstrap import Container, build
from payledger.config import (
    D365Settings,
    DatabaseSettings,
    LoggingSettings,
    PayTraceSettings,
    Settings,
    VaultSettings,
    WorkerSettings,
)
from payledger.demo.stage import DISCRETIONARY_TITLES, Stage, sandboxes
from payledger.domain.clock import Clock
from payledger.engine.jobs import JobStatus
from payledger.sandbox.paytrace import encrypt_field
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app

VISA = "4012000098765439"
EVENTS_KEY = "d365-events-key-0123456789abcdef"


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[Stage]:
    async with sandboxes(tmp_path) as running:
        running.d365.state.faults.settings.update({"latency_ms": 0, "jitter_ms": 0})
        yield running


@pytest.fixture
def settings(database_url: str, tmp_path: Path, stage: Stage) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        worker=WorkerSettings(
            poll_interval_seconds=0.02, backoff_base_seconds=0.05, backoff_cap_seconds=0.2
        ),
        paytrace=PayTraceSettings(
            base_url=stage.paytrace_url,
            username="demo123",
            integrator_id="payledger-test",
            discretionary_titles=list(DISCRETIONARY_TITLES),
            timeout_seconds=5,
        ),
        d365=D365Settings(
            enabled=True,
            base_url=stage.d365_url,
            authority_host=stage.d365_url,
            tenant="payledger-sandbox",
            client_id="payledger-client",
            ca_file=stage.certificate,
            timeout_seconds=5,
        ),
    )


async def prepared(settings: Settings, clock: Clock | None = None) -> Container:
    """payledger built on ``settings`` (and ``clock``), its database migrated and both
    connectors' secrets stored; the caller closes it."""
    built = build(settings, clock=clock)
    await built.prepare()
    if not built.database.is_sqlite:
        from payledger.adapters.db.migrate import migrate

        await migrate(built.database)
    await built.vault.set("paytrace-password", "demo123", actor="test")
    await built.vault.set("d365-client-secret", "payledger-secret", actor="test")
    return built


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    built = await prepared(settings)
    await built.vault.set(settings.api.business_events_secret, EVENTS_KEY, actor="test")
    yield built
    await built.aclose()


@pytest.fixture
def app(container: Container):
    return create_app(container, embedded_worker=False)


@pytest.fixture
def tokens(container: Container) -> Callable[..., Awaitable[str]]:
    """``await tokens("payments:write", client="shop")``: a fresh API token."""

    async def issue(*scopes: str, client: str = "shop") -> str:
        async with container.database.transaction() as conn:
            issued = await ApiClients(container.clock).issue(conn, client, scopes, actor="test")
        return issued.secret

    return issue


@pytest.fixture
async def api(app, tokens) -> AsyncIterator[httpx.AsyncClient]:
    """payledger's API in-process, as a shop holding payments:write."""
    token = await tokens("payments:write")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://payledger.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


@pytest.fixture
async def as_client(app, tokens) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """``await as_client("read", client="reporting")``: the API with that client's token."""
    clients: list[httpx.AsyncClient] = []

    async def open_(*scopes: str, client: str) -> httpx.AsyncClient:
        token = await tokens(*scopes, client=client)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://payledger.test",
            headers={"Authorization": f"Bearer {token}"},
        )
        clients.append(http)
        return http

    yield open_
    for http in clients:
        await http.aclose()


def key() -> dict[str, str]:
    """A fresh ``Idempotency-Key`` header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture
async def paytrace(stage: Stage) -> AsyncIterator[PayTraceClient]:
    """The merchant's own PayTrace access: vault profiles, settlement, exports."""
    async with PayTraceClient(stage.paytrace_url, "demo123", "demo123", "test") as client:
        yield client


@pytest.fixture
async def d365(stage: Stage) -> AsyncIterator[httpx.AsyncClient]:
    """The D365 sandbox's control API (invoices, rows as F&O renders them)."""
    trust = ssl.create_default_context(cafile=str(stage.certificate))
    async with httpx.AsyncClient(base_url=stage.d365_url, verify=trust) as http:
        yield http


async def rows(d365: httpx.AsyncClient, entity_set: str, **match: Any) -> list[dict[str, Any]]:
    reply = await d365.get(f"/_sandbox/state/{entity_set}", params={"company": "usmf"})
    found: list[dict[str, Any]] = reply.json()["value"]
    return [row for row in found if all(row.get(k) == v for k, v in match.items())]


async def post_invoice(d365: httpx.AsyncClient, account: str, amount: str, **extra: Any) -> dict:
    """Post a sales invoice inside "F&O"; returns the invoice and its business event."""
    reply = await d365.post(
        "/_sandbox/invoices", json={"customer_account": account, "amount": amount, **extra}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def encrypted_card(number: str = VISA) -> PayTraceEncryptedCard:
    return PayTraceEncryptedCard(
        encrypted_number=encrypt_field(number), expiration_month=12, expiration_year=2030
    )


def money(value: Any) -> Decimal:
    return Decimal(str(value))


async def drain(container: Container, *, within: float = 30.0) -> None:
    """Run a worker until no job is pending or running and no posting is owed."""
    worker = container.worker(concurrency=8, name="test-worker")
    task = asyncio.create_task(worker.run())
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            async with container.database.transaction() as conn:
                counts = await container.queue.counts(conn)
                owed = await conn.scalar(
                    select(func.count()).where(
                        postings.c.state.in_(("planned", "sending", "unknown"))
                    )
                )
            if counts[JobStatus.PENDING] + counts[JobStatus.RUNNING] == 0 and not owed:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the queue did not drain within {within} s: {counts}")
    finally:
        worker.stop()
        await task
