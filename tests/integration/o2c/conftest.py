"""Order to cash and customer sync against both sandboxes served on loopback (D365 over TLS),
with payledger's real container on a real database."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from payledger.engine.jobs import JobStatus
from payledger.sandbox.paytrace import encrypt_field, protect_nonce
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app

VISA = "4012000098765439"


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[Stage]:
    async with sandboxes(tmp_path) as running:
        running.d365.state.faults.settings.update({"latency_ms": 0, "jitter_ms": 0})
        yield running


def o2c_settings(database_url: str, tmp_path: Path, stage: Stage, **sections: Any) -> Settings:
    values: dict[str, Any] = {
        "database": DatabaseSettings(url=database_url),
        "vault": VaultSettings(key_file=tmp_path / "master.key"),
        "logging": LoggingSettings(file=None),
        "worker": WorkerSettings(
            poll_interval_seconds=0.02, backoff_base_seconds=0.05, backoff_cap_seconds=0.2
        ),
        "paytrace": PayTraceSettings(
            base_url=stage.paytrace_url,
            username="demo123",
            integrator_id="payledger-test",
            discretionary_titles=list(DISCRETIONARY_TITLES),
            timeout_seconds=5,
        ),
        "d365": D365Settings(
            enabled=True,
            base_url=stage.d365_url,
            authority_host=stage.d365_url,
            tenant="payledger-sandbox",
            client_id="payledger-client",
            ca_file=stage.certificate,
            timeout_seconds=5,
        ),
    }
    values.update(sections)
    return Settings(**values)


async def open_container(settings: Settings) -> Container:
    container = build(settings)
    await container.prepare()
    await container.vault.set("paytrace-password", "demo123", actor="test")
    await container.vault.set("d365-client-secret", "payledger-secret", actor="test")
    return container


@pytest.fixture
async def container(database_url: str, tmp_path: Path, stage: Stage) -> AsyncIterator[Container]:
    built = await open_container(o2c_settings(database_url, tmp_path, stage))
    yield built
    await built.aclose()


@pytest.fixture
async def d365_rows(stage: Stage) -> Any:
    """``await d365_rows("CustomersV3", CustomerAccount="US-001")``: rows as F&O renders them."""

    async def rows(entity_set: str, **match: Any) -> list[dict[str, Any]]:
        trust = ssl.create_default_context(cafile=str(stage.certificate))
        async with httpx.AsyncClient(verify=trust) as http:
            reply = await http.get(
                f"{stage.d365_url}/_sandbox/state/{entity_set}", params={"company": "usmf"}
            )
        found: list[dict[str, Any]] = reply.json()["value"]
        return [row for row in found if all(row.get(k) == v for k, v in match.items())]

    return rows


def encrypted_card(number: str = VISA) -> PayTraceEncryptedCard:
    """What PayTrace Protect hands the shop: the number encrypted, never in payledger's hands."""
    return PayTraceEncryptedCard(
        encrypted_number=encrypt_field(number), expiration_month=12, expiration_year=2030
    )


@pytest.fixture
async def shop(stage: Stage) -> AsyncIterator[PayTraceClient]:
    """A shop's own PayTrace client, to put cards in the vault the way a shop front end does."""
    async with PayTraceClient(stage.paytrace_url, "demo123", "demo123", "shop") as client:
        yield client


def money(value: Any) -> Decimal:
    return Decimal(str(value))


async def issue_token(container: Container, *scopes: str, client: str = "shop") -> str:
    """A fresh API token's secret for ``client`` with ``scopes``."""
    async with container.database.transaction() as conn:
        issued = await ApiClients(container.clock).issue(conn, client, scopes, actor="test")
    return issued.secret


@pytest.fixture
def tokens(container: Container) -> Callable[..., Awaitable[str]]:
    """``await tokens("orders:write", client="shop")``: a fresh API token's secret."""

    async def issue(*scopes: str, client: str = "shop") -> str:
        return await issue_token(container, *scopes, client=client)

    return issue


@asynccontextmanager
async def api_client(container: Container, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """payledger's API in-process, calling with ``token``."""
    app = create_app(container, embedded_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://payledger.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


@pytest.fixture
async def api(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """payledger's API as a shop with orders:write and read."""
    async with api_client(container, await issue_token(container, "orders:write", "read")) as http:
        yield http


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


def protect_card(number: str = VISA) -> dict[str, Any]:
    """``payment`` as the shop sends it after PayTrace Protect.js captured the card."""
    nonce = protect_nonce(number, 12, 2030, "999")
    return {"protect": {"hpf_token": nonce.hpf_token, "enc_key": nonce.enc_key}}


def order_body(order_id: str, **changes: Any) -> dict[str, Any]:
    """A valid shop order: 2 x D0001 at 200.00 + 4 x T0001 at 16.50 + tax 21.28 + shipping 9.90."""
    body: dict[str, Any] = {
        "order_id": order_id,
        "currency": "USD",
        "customer": {
            "name": "Grace Hopper",
            "email": f"grace+{order_id.lower()}@example.com",
            "phone": "+1-202-555-0199",
            "billing_address": {
                "lines": ["1 Navy Yard", "Building 2"],
                "city": "Arlington",
                "state": "VA",
                "postal_code": "22202",
                "country": "US",
            },
        },
        "shipping_address": {
            "lines": ["9 Dock Rd"],
            "city": "Norfolk",
            "state": "VA",
            "postal_code": "23511",
            "country": "us",
        },
        "lines": [
            {"item_number": "D0001", "quantity": 2, "unit_price": "200.00",
             "description": "MidRangeSpeaker2"},
            {"item_number": "T0001", "quantity": 4, "unit_price": "16.50"},
        ],
        "tax": "21.28",
        "shipping": "9.90",
        "total": "497.18",
        "payment": protect_card(),
    }  # fmt: skip
    body.update(changes)
    return body
