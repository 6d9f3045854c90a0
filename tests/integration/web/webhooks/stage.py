"""The stage for webhook tests: the PayTrace sandbox on a loopback port, payledger's app with
its secrets in the vault, and a sender that signs deliveries the Standard Webhooks way."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from payledger.adapters.db.tables import idempotency_keys, inbox, jobs
from payledger.adapters.paytrace import PayTraceClient, PayTraceEncryptedCard, RetryPolicy
from payledger.adapters.paytrace.schemas import PayTraceSaleDetails
from payledger.bench.postgres import free_port
from payledger.bootstrap import Container, build
from payledger.bootstrap.webhooks import FETCH_HINTED, HINT_SOURCE
from payledger.config import (
    DatabaseSettings,
    LoggingSettings,
    PayTraceSettings,
    ServiceSettings,
    Settings,
    VaultSettings,
    WebhookSettings,
    WorkerSettings,
)
from payledger.sandbox.paytrace import PayTraceSandbox, PayTraceSandboxSettings, encrypt_field
from payledger.sandbox.paytrace import create_app as create_paytrace
from payledger.web.serving import QuietSignalsServer, config
from payledger.web.signatures import sign

MAX_BODY_BYTES = 4096
SECRET = "whsec_" + base64.b64encode(b"payledger-webhook-test-key-0001!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a-different-key-nobody-configured").decode()
VISA = "4012000098765439"


@dataclass
class PayTraceStage:
    url: str
    app: FastAPI

    @property
    def sandbox(self) -> PayTraceSandbox:
        sandbox: PayTraceSandbox = self.app.state.sandbox
        return sandbox

    def client(self) -> PayTraceClient:
        """A shop's own PayTrace client (not payledger's), to make payments with."""
        return PayTraceClient(
            self.url, "demo123", "demo123", "shop", retry=RetryPolicy(lookup_delay_s=0)
        )

    async def sale(self, amount: str = "25.00", details: PayTraceSaleDetails | None = None) -> int:
        async with self.client() as shop:
            card = PayTraceEncryptedCard(
                encrypted_number=encrypt_field(VISA), expiration_month=12, expiration_year=2030
            )
            result = await shop.sale_keyed(Decimal(amount), card, details=details)
        assert result.transaction_id is not None
        return result.transaction_id

    async def void(self, transaction_id: int) -> None:
        async with self.client() as shop:
            await shop.void(transaction_id)


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """``app`` on a free loopback port for the length of the block."""
    port = free_port()
    server = QuietSignalsServer(config(app, "127.0.0.1", port))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def paytrace_stage(**settings: Any) -> AsyncIterator[PayTraceStage]:
    app = create_paytrace(PayTraceSandboxSettings(**settings))
    async with served(app) as url:
        yield PayTraceStage(url, app)


@dataclass
class Sender:
    """Posts deliveries to ``/webhooks/paytrace`` signed like a Standard Webhooks sender."""

    http: httpx.AsyncClient
    secret: str = SECRET
    prefix: str = "msg_test"
    sent: int = field(default=0)

    def headers(
        self, body: bytes, *, message_id: str | None = None, at: int | None = None, **extra: str
    ) -> dict[str, str]:
        self.sent += 1
        message_id = message_id or f"{self.prefix}_{self.sent:06d}"
        stamp = int(time.time()) if at is None else at
        return {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(self.secret, message_id, stamp, body),
            **extra,
        }

    async def post(
        self, event: dict[str, Any] | bytes, *, headers: dict[str, str] | None = None, **options
    ) -> httpx.Response:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        return await self.http.post(
            "/webhooks/paytrace", content=body, headers=headers or self.headers(body, **options)
        )

    async def hint(self, transaction_id: int, change: str = "created", **options) -> httpx.Response:
        event = {"type": f"transaction.{change}", "data": {"transaction_id": transaction_id}}
        return await self.post(event, **options)


def hint_body(transaction_id: int, change: str = "created") -> bytes:
    return json.dumps(
        {"type": f"transaction.{change}", "data": {"transaction_id": transaction_id}}
    ).encode()


async def stored_counts(container: Container) -> dict[str, int]:
    """Rows in the tables an accepted delivery writes to."""
    async with container.database.transaction() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (inbox, jobs, idempotency_keys)
        }


NOTHING_STORED = {"inbox": 0, "jobs": 0, "idempotency_keys": 0}


async def hints(container: Container) -> list[Any]:
    """The stored hints (inbox rows of webhook deliveries), oldest first."""
    async with container.database.transaction() as conn:
        found = await conn.execute(
            select(inbox).where(inbox.c.source == HINT_SOURCE).order_by(inbox.c.id)
        )
        return list(found)


async def fetch_jobs(container: Container) -> list[Any]:
    async with container.database.transaction() as conn:
        found = await conn.execute(
            select(jobs).where(jobs.c.kind == FETCH_HINTED).order_by(jobs.c.id)
        )
        return list(found)


async def run_fetch_jobs(container: Container) -> None:
    """A worker runs the fetch jobs that are due (only those: no D365 here for the
    ``payment.process`` jobs they enqueue), until none is left to run now."""
    await container.worker(kinds=[FETCH_HINTED]).run_until_idle()


def webhook_settings(
    database_url: str, tmp_path, paytrace_url: str, *, worker: WorkerSettings | None = None,
    **webhooks: Any,
) -> Settings:  # fmt: skip
    return Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        service=ServiceSettings(max_body_bytes=MAX_BODY_BYTES),
        paytrace=PayTraceSettings(
            base_url=paytrace_url, username="demo123", integrator_id="payledger-test"
        ),
        webhooks=WebhookSettings(**webhooks),
        worker=worker or WorkerSettings(poll_interval_seconds=0.02),
    )


async def open_container(settings: Settings, secrets: dict[str, str]) -> Container:
    container = build(settings)
    await container.prepare()
    for name, value in secrets.items():
        await container.vault.set(name, value, actor="test")
    return container
