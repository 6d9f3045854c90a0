"""The demo's webhook hour: PayTrace's signed notifications drive payments into payledger.

payledger's HTTP service is served on a loopback port and the PayTrace sandbox's notifier is
pointed at ``POST /webhooks/paytrace`` with a secret from the vault. Each sale is announced by
a Standard Webhooks delivery; payledger fetches the transaction back from PayTrace and commits
it to the inbox before answering, so the poller later finds those payments already there. A
captured delivery replayed and a forged one show the replay and signature defences.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from rich.table import Table
from sqlalchemy import func, select

from payledger.adapters.db.tables import inbox
from payledger.bench.postgres import free_port
from payledger.bootstrap import Container
from payledger.cli.serving import QuietSignalsServer, config
from payledger.demo.day import Shop
from payledger.demo.stage import Stage
from payledger.web.app import create_app
from payledger.web.signatures import sign

Say = Callable[[str], None]
WEBHOOK_SALES = 20


@dataclass
class WebhookHour:
    sales: int
    deliveries: int
    delivered: int
    stored_before_any_poll: int
    replay_answer: str
    forgery_status: int
    seconds: float


@asynccontextmanager
async def _service(container: Container) -> AsyncIterator[str]:
    """payledger's HTTP service on a free loopback port (the demo's own workers do the work)."""
    port = free_port()
    server = QuietSignalsServer(
        config(create_app(container, embedded_worker=False), "127.0.0.1", port)
    )
    async with _running(server):
        yield f"http://127.0.0.1:{port}"


@asynccontextmanager
async def _running(server: QuietSignalsServer) -> AsyncIterator[None]:
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                raise RuntimeError("payledger's HTTP service did not start")
            await asyncio.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        await task


async def _inbox_size(container: Container) -> int:
    async with container.database.transaction() as conn:
        return int(await conn.scalar(select(func.count()).select_from(inbox)) or 0)


async def webhook_hour(container: Container, stage: Stage, shop: Shop, say: Say) -> WebhookHour:
    """``WEBHOOK_SALES`` sales announced by signed webhooks, then a replay and a forgery."""
    started = time.monotonic()
    secret = "whsec_" + base64.b64encode(random.Random(5).randbytes(32)).decode()
    await container.vault.set(container.settings.webhooks.paytrace_secrets[0], secret, actor="demo")
    say(
        f"evening: {WEBHOOK_SALES} sales announced by PayTrace's signed webhooks "
        "(Standard Webhooks); payledger fetches each back and commits it before answering"
    )
    before = await _inbox_size(container)
    notifier = stage.paytrace.notifier
    async with _service(container) as url:
        notifier.url, notifier.secret = f"{url}/webhooks/paytrace", secret
        try:
            await shop.sales(WEBHOOK_SALES)
            deliveries = list(await notifier.flush())
        finally:
            notifier.url = None
        stored = await _inbox_size(container) - before
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            replay = await _post(http, secret, deliveries[0].message_id, deliveries[0].event)
            forged_secret = "whsec_" + base64.b64encode(b"not-the-secret-".ljust(32)).decode()
            forgery = await _post(http, forged_secret, "msg_forged", deliveries[0].event)
    hour = WebhookHour(
        sales=WEBHOOK_SALES,
        deliveries=len(deliveries),
        delivered=sum(d.delivered for d in deliveries),
        stored_before_any_poll=stored,
        replay_answer=str(replay.json().get("status", replay.status_code)),
        forgery_status=forgery.status_code,
        seconds=time.monotonic() - started,
    )
    say(
        f"{hour.delivered} of {hour.deliveries} deliveries acknowledged, {stored} payments in "
        f"the inbox before any poll; a replayed delivery: {hour.replay_answer}; "
        f"a forged one: {hour.forgery_status}"
    )
    return hour


async def _post(
    http: httpx.AsyncClient, secret: str, message_id: str, event: object
) -> httpx.Response:
    body = json.dumps(event, separators=(",", ":")).encode()
    stamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, message_id, stamp, body),
    }
    return await http.post("/webhooks/paytrace", content=body, headers=headers)


def webhook_table(hour: WebhookHour) -> Table:
    table = Table("", "count", title=f"signed webhooks in {hour.seconds:.1f} s")
    table.add_row("sales announced by PayTrace's notifier", str(hour.sales))
    table.add_row("deliveries / acknowledged (2xx after commit)",
                  f"{hour.deliveries} / {hour.delivered}")  # fmt: skip
    table.add_row("payments fetched back and stored before any poll",
                  str(hour.stored_before_any_poll))  # fmt: skip
    table.add_row("a delivery replayed", hour.replay_answer)
    table.add_row("a forged delivery (wrong secret)", str(hour.forgery_status))
    return table
