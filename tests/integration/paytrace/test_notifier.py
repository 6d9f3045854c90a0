"""The optional Standard-Webhooks notifier: signed, retried, flushable hints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import httpx
from fastapi import FastAPI, Request, Response

from payledger.adapters.paytrace import PayTraceClient, PayTraceEncryptedCard, RetryPolicy
from payledger.sandbox.paytrace import PayTraceSandboxSettings, create_app, encrypt_field

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


class Received(list[dict]):
    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[str] = []


def receiver(fail_first: int = 0) -> tuple[FastAPI, list[dict]]:
    """A webhook endpoint verifying signatures as a Standard Webhooks consumer would.

    It answers 500 to the first ``fail_first`` valid deliveries; ``received`` lists accepted
    ones, ``received.attempts`` the ``webhook-id`` of every valid attempt.
    """
    app, received, failures = FastAPI(), Received(), [fail_first]

    @app.post("/hooks")
    async def hook(request: Request) -> Response:
        body = (await request.body()).decode()
        h = request.headers
        signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.{body}".encode()
        key = base64.b64decode(SECRET.removeprefix("whsec_"))
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, h["webhook-signature"]):
            return Response(status_code=401)
        received.attempts.append(h["webhook-id"])
        if failures[0]:
            failures[0] -= 1
            return Response(status_code=500)
        received.append({"id": h["webhook-id"], **json.loads(body)})
        return Response(status_code=204)

    return app, received


def sandbox_with(hooks: FastAPI, **settings) -> FastAPI:
    return create_app(
        PayTraceSandboxSettings(
            notify_url="http://hooks.test/hooks",
            notify_secret=SECRET,
            notify_backoff_s=0.001,
            **settings,
        ),
        notify_transport=httpx.ASGITransport(app=hooks),
    )


async def charge_and_void(app: FastAPI) -> None:

    card = PayTraceEncryptedCard(
        encrypted_number=encrypt_field("4012000098765439"),
        expiration_month=12,
        expiration_year=2030,
    )
    async with PayTraceClient(
        "http://t",
        "demo123",
        "demo123",
        "x",
        transport=httpx.ASGITransport(app=app),
        retry=RetryPolicy(lookup_delay_s=0),
    ) as client:
        sale = await client.sale_keyed(Decimal("5.00"), card)
        await client.void(sale.transaction_id)


async def test_changes_are_delivered_signed_in_order():
    hooks, received = receiver()
    app = sandbox_with(hooks)
    await charge_and_void(app)
    deliveries = await app.state.sandbox.notifier.flush()

    txn_id = app.state.sandbox.state.changes[0].id
    assert sorted((r["type"], r["data"]["transaction_id"]) for r in received) == [
        ("transaction.created", txn_id),
        ("transaction.voided", txn_id),
    ]
    assert all(d.delivered and d.attempts == 1 for d in deliveries)
    assert len({r["id"] for r in received}) == 2


async def test_failed_deliveries_are_retried_with_the_same_id():
    hooks, received = receiver(fail_first=2)
    app = sandbox_with(hooks, notify_attempts=4)
    await charge_and_void(app)
    deliveries = await app.state.sandbox.notifier.flush()

    assert sum(d.attempts for d in deliveries) == 4
    assert all(d.delivered for d in deliveries)
    assert sorted(received.attempts) == sorted([d.message_id for d in deliveries] * 2)
    assert len(received) == 2


async def test_gives_up_after_the_configured_attempts():
    hooks, _ = receiver(fail_first=10)
    app = sandbox_with(hooks, notify_attempts=2)
    await charge_and_void(app)
    deliveries = await app.state.sandbox.notifier.flush()
    assert [(d.delivered, d.attempts, d.status) for d in deliveries] == [(False, 2, 500)] * 2


async def test_off_by_default(app, raw):
    await raw.post("/_sandbox/seed")
    assert (await raw.get("/_sandbox/notifications")).json() == {
        "enabled": False,
        "url": None,
        "deliveries": [],
    }


async def test_enabled_at_run_time_through_the_control_api():
    hooks, received = receiver()
    app = create_app(notify_transport=httpx.ASGITransport(app=hooks))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as raw:
        await raw.put(
            "/_sandbox/notifier", json={"url": "http://hooks.test/hooks", "secret": SECRET}
        )
        await raw.post("/_sandbox/seed")
        flushed = (await raw.post("/_sandbox/notifications/flush")).json()
    assert flushed["enabled"] and all(d["delivered"] for d in flushed["deliveries"])
    assert {r["type"] for r in received} == {"transaction.created", "transaction.settled"}
