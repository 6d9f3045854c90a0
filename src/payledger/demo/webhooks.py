"""The demo's webhook hour: PayTrace's signed notifications drive payments into payledger.

payledger's HTTP service is served on a loopback port and the PayTrace sandbox's notifier is
pointed at ``POST /webhooks/paytrace`` with a secret from the vault. Each sale is announced by
a Standard Webhooks delivery; payledger commits the hint before answering, and the demo's
workers fetch each transaction back from PayTrace into the inbox, so the poller later finds
those payments already there (and they go on to D365 like any other). A captured delivery
replayed and a forged one show the replay and signature defences.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from rich.table import Table
from sqlalchemy import func, select

from payledger.adapters.db.tables import inbox, postings
from payledger.bench.postgres import free_port
from payledger.bootstrap import Container
from payledger.bootstrap.webhooks import HINT_SOURCE
from payledger.demo.day import Shop
from payledger.demo.stage import Stage
from payledger.web.app import create_app
from payledger.web.serving import QuietSignalsServer, config
from payledger.web.signatures import sign

Say = Callable[[str], None]
WEBHOOK_SALES = 20


@dataclass
class WebhookHour:
    sales: int
    deliveries: int
    delivered: int
    fetched_before_any_poll: int
    replay_answer: str
    forgery_status: int
    seconds: float
    transactions: list[str] = field(default_factory=list)
    """The announced sales."""
    posted_to_d365: int | None = None
    """How many of them have their journal line in D365 (counted once the day is done)."""


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


async def _fetched(container: Container, transactions: list[str], after_id: int) -> int:
    """How many of ``transactions`` are in the inbox as payments stored after ``after_id``."""
    async with container.database.transaction() as conn:
        payloads = await conn.execute(
            select(inbox.c.payload).where(inbox.c.source == "paytrace", inbox.c.id > after_id)
        )
        found = {str(payload.get("gateway_txn_id")) for payload in payloads.scalars()}
    return len(found & set(transactions))


async def _last_inbox_id(container: Container) -> int:
    async with container.database.transaction() as conn:
        return int(await conn.scalar(select(func.max(inbox.c.id))) or 0)


async def _until_hints_fetched(container: Container, within: float) -> None:
    """Wait while the workers' fetch jobs still have hints to fetch."""
    deadline = time.monotonic() + within
    waiting = (inbox.c.source == HINT_SOURCE) & (inbox.c.status == "received")
    while time.monotonic() < deadline:
        async with container.database.transaction() as conn:
            if not await conn.scalar(select(func.count()).where(waiting)):
                return
        await asyncio.sleep(0.1)


async def posted_to_d365(container: Container, transactions: list[str]) -> int:
    """How many of ``transactions`` have their payment journal line posted in D365."""
    async with container.database.transaction() as conn:
        posted = await conn.scalar(
            select(func.count(func.distinct(postings.c.gateway_txn_id))).where(
                postings.c.gateway_txn_id.in_(transactions),
                postings.c.operation == "payment",
                postings.c.state == "posted",
            )
        )
    return int(posted or 0)


async def webhook_hour(container: Container, stage: Stage, shop: Shop, say: Say) -> WebhookHour:
    """``WEBHOOK_SALES`` sales announced by signed webhooks, then a replay and a forgery."""
    started = time.monotonic()
    secret = "whsec_" + base64.b64encode(random.Random(5).randbytes(32)).decode()
    await container.vault.set(container.settings.webhooks.paytrace_secrets[0], secret, actor="demo")
    say(
        f"evening: {WEBHOOK_SALES} sales announced by PayTrace's signed webhooks "
        "(Standard Webhooks); payledger commits each hint before answering, its workers fetch "
        "each sale back from PayTrace"
    )
    before = await _last_inbox_id(container)
    first_sale = len(shop.traffic.sales)
    notifier = stage.paytrace.notifier
    async with _service(container) as url:
        notifier.url, notifier.secret = f"{url}/webhooks/paytrace", secret
        try:
            await shop.sales(WEBHOOK_SALES)
            deliveries = list(await notifier.flush())
        finally:
            notifier.url = None
        announced = [str(txn) for txn in shop.traffic.sales[first_sale:]]
        await _until_hints_fetched(container, within=60)
        fetched = await _fetched(container, announced, before)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            replay = await _post(http, secret, deliveries[0].message_id, deliveries[0].event)
            forged_secret = "whsec_" + base64.b64encode(b"not-the-secret-".ljust(32)).decode()
            forgery = await _post(http, forged_secret, "msg_forged", deliveries[0].event)
    hour = WebhookHour(
        sales=WEBHOOK_SALES,
        deliveries=len(deliveries),
        delivered=sum(d.delivered for d in deliveries),
        fetched_before_any_poll=fetched,
        replay_answer=str(replay.json().get("status", replay.status_code)),
        forgery_status=forgery.status_code,
        seconds=time.monotonic() - started,
        transactions=announced,
    )
    say(
        f"{hour.delivered} of {hour.deliveries} deliveries acknowledged, {fetched} payments "
        f"fetched into the inbox before any poll; a replayed delivery: {hour.replay_answer}; "
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
    table.add_row("deliveries / acknowledged (2xx once the hint is committed)",
                  f"{hour.deliveries} / {hour.delivered}")  # fmt: skip
    table.add_row("payments fetched back from PayTrace before any poll",
                  str(hour.fetched_before_any_poll))  # fmt: skip
    if hour.posted_to_d365 is not None:
        table.add_row("  of them posted to D365 by the end of the day", str(hour.posted_to_d365))
    table.add_row("a delivery replayed", hour.replay_answer)
    table.add_row("a forged delivery (wrong secret)", str(hour.forgery_status))
    return table
