"""Optional Standard-Webhooks notifier: signed hints that a transaction changed.

Real PayTrace documents no webhooks (fact sheet §6), so this is off unless a URL is set. Each
change is POSTed as ``{"type": "transaction.created", "data": {"transaction_id": 125391201}}``
with the headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 over ``"{id}.{timestamp}.{body}"``, keyed with the base64 part of
a ``whsec_`` secret). Deliveries run in the background, are retried ``attempts`` times with
doubling back-off, and :meth:`Notifier.flush` waits for all of them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from payledger.sandbox.paytrace.state import Change


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` value for one delivery."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def secret_from_seed(seed: int) -> str:
    return "whsec_" + base64.b64encode(random.Random(seed).randbytes(32)).decode()


@dataclass
class Delivery:
    """What happened to one notification (listed by the control API)."""

    message_id: str
    event: dict[str, Any]
    attempts: int = 0
    status: int | None = None
    delivered: bool = False
    error: str = ""


@dataclass
class Notifier:
    """Signs and delivers change hints to ``url``; disabled while ``url`` is empty."""

    url: str | None
    secret: str
    attempts: int = 4
    backoff_s: float = 0.5
    transport: httpx.AsyncBaseTransport | None = None
    timestamp: Callable[[], int] = field(default=lambda: int(time.time()))
    seed: int = 0
    deliveries: list[Delivery] = field(default_factory=list, init=False)
    _queue: list[Delivery] = field(default_factory=list, init=False, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def publish(self, changes: list[Change]) -> None:
        """Queue one delivery per change and start them when an event loop is running."""
        if not self.enabled:
            return
        for change in changes:
            delivery = Delivery(f"msg_{self._rng.randbytes(12).hex()}", change.as_event())
            self.deliveries.append(delivery)
            self._queue.append(delivery)
        self._start_queued()

    def _start_queued(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        while self._queue:
            task = asyncio.create_task(self._deliver(self._queue.pop(0)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def flush(self) -> list[Delivery]:
        """Wait until every queued delivery succeeded or ran out of attempts."""
        self._start_queued()
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        return self.deliveries

    async def _deliver(self, delivery: Delivery) -> None:
        body = json.dumps(delivery.event, separators=(",", ":"))
        async with httpx.AsyncClient(transport=self.transport, timeout=15.0) as client:
            for attempt in range(self.attempts):
                if attempt:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                delivery.attempts += 1
                if await self._post(client, delivery, body):
                    return

    async def _post(self, client: httpx.AsyncClient, delivery: Delivery, body: str) -> bool:
        stamp = self.timestamp()
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(self.secret, delivery.message_id, stamp, body),
        }
        try:
            response = await client.post(str(self.url), content=body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
            return False
        delivery.status = response.status_code
        delivery.delivered = response.is_success
        delivery.error = "" if delivery.delivered else response.text[:200]
        return delivery.delivered
