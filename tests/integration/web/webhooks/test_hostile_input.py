"""Hostile input at POST /webhooks/paytrace: a clear 4xx naming the problem, never a 5xx, and
nothing stored; an unavailable database (or no secret to verify with) gives 503 with
Retry-After and nothing stored. PayTrace is not called while the sender waits, so its being
down is no reason to refuse a delivery (test_paytrace_webhook.py)."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest

from payledger.bootstrap import build
from payledger.web.app import create_app
from tests.integration.web.webhooks.stage import (
    MAX_BODY_BYTES,
    NOTHING_STORED,
    OTHER_SECRET,
    SECRET,
    Sender,
    hint_body,
    open_container,
    stored_counts,
    webhook_settings,
)

PAN = "4111111111111111"
ID = "body.data.transaction_id"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Refusals happen before anything is stored, so SQLite alone shows that nothing was;
    storage on both backends is covered by test_paytrace_webhook.py."""
    return sqlite_url


async def refused(sender: Sender, container, response: httpx.Response, status: int, error: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["detail"]
    assert PAN not in response.text
    assert await stored_counts(container) == NOTHING_STORED
    return body


# ---- authenticity: the signature is checked on the raw bytes before anything else ----------


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_a_missing_signature_header_is_401(sender, container, stage, missing):
    body = hint_body(await stage.sale())
    headers = sender.headers(body)
    del headers[missing]
    response = await sender.post(body, headers=headers)
    detail = (await refused(sender, container, response, 401, "missing_header"))["detail"]
    assert missing in detail


async def test_a_body_signed_with_an_unknown_secret_is_401(sender, container, stage):
    forger = Sender(sender.http, OTHER_SECRET)
    response = await forger.hint(await stage.sale())
    await refused(sender, container, response, 401, "signature_mismatch")


async def test_a_tampered_body_is_401(sender, container, stage):
    genuine, other = await stage.sale(), await stage.sale()
    headers = sender.headers(hint_body(genuine))
    response = await sender.post(hint_body(other), headers=headers)
    await refused(sender, container, response, 401, "signature_mismatch")


@pytest.mark.parametrize("age", [301, -301, 86_400])
async def test_a_stale_or_future_timestamp_is_401_even_when_correctly_signed(
    sender, container, stage, age
):
    response = await sender.hint(await stage.sale(), at=int(time.time()) - age)
    detail = (await refused(sender, container, response, 401, "timestamp_out_of_tolerance"))[
        "detail"
    ]
    assert "300 s" in detail


async def test_a_replay_of_a_captured_delivery_after_the_tolerance_is_401(sender, container, stage):
    # an attacker replays a genuine delivery recorded six minutes ago (never accepted here)
    body = hint_body(await stage.sale())
    captured = sender.headers(body, at=int(time.time()) - 360)
    response = await sender.post(body, headers=captured)
    await refused(sender, container, response, 401, "timestamp_out_of_tolerance")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-timestamp", "not-a-number"),
        ("webhook-id", "spaces are not allowed"),
        ("webhook-signature", "v1"),
        ("webhook-signature", "sha256=abcdef"),
    ],
)
async def test_malformed_signature_headers_are_401(sender, container, stage, header, value):
    body = hint_body(await stage.sale())
    response = await sender.post(body, headers={**sender.headers(body), header: value})
    await refused(sender, container, response, 401, "malformed_header")


async def test_without_a_secret_in_the_vault_deliveries_are_503_not_accepted(
    database_url, tmp_path, stage
):
    settings = webhook_settings(database_url, tmp_path, stage.url)
    container = await open_container(settings, {"paytrace-password": "demo123"})
    try:
        app = create_app(container, embedded_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
        ) as http:
            response = await Sender(http).hint(await stage.sale())
        body = await refused(Sender(http), container, response, 503, "not_configured")
        assert "secret" in body["detail"]
        assert response.headers["retry-after"] == "30"
    finally:
        await container.aclose()


# ---- the body: signed, but still hostile ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b'{"type": "transaction.created", "data": {"transaction_id": 1}',
        b"[1, 2, 3]",
    ],
)
async def test_malformed_json_is_400(sender, container, body):
    response = await sender.post(body)
    await refused(sender, container, response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"\xff\xfe\x00garbage", 415, "unsupported_encoding"),
        (b'{"type": "transaction.created", "data": {"transaction_id": NaN}}', 422,
         "non_finite_number"),
    ],
)  # fmt: skip
async def test_a_body_no_json_reader_should_see_is_refused_by_the_guard(
    sender, container, body, status, error
):
    response = await sender.post(body)
    await refused(sender, container, response, status, error)


async def test_a_body_not_declared_as_json_is_415(sender, container, stage):
    body = hint_body(await stage.sale())
    response = await sender.post(
        body, headers=sender.headers(body, **{"content-type": "text/plain"})
    )
    await refused(sender, container, response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            {"type": "transaction.created", "data": {"transaction_id": "125391201"}},
            ID,
        ),
        ({"type": "transaction.created", "data": {"transaction_id": 1.5}}, ID),
        ({"type": "transaction.created", "data": {"transaction_id": -5}}, ID),
        ({"type": "transaction.created", "data": {"transaction_id": 0}}, ID),
        ({"type": "transaction.created", "data": {"transaction_id": True}}, ID),
        ({"type": "transaction.created", "data": {"transaction_id": 10**30}}, ID),
        ({"type": "transaction.created", "data": {"transaction_id": None}}, ID),
        ({"type": "transaction.created", "data": {}}, ID),
        ({"type": "transaction.created", "data": [125391201]}, "body.data"),
        ({"type": "transaction.created"}, "body.data"),
        ({"type": "transaction.refunded-twice", "data": {"transaction_id": 1}}, "body.type"),
        ({"type": 7, "data": {"transaction_id": 1}}, "body.type"),
        ({"data": {"transaction_id": 1}}, "body.type"),
    ],
)
async def test_wrong_types_and_unknown_kinds_are_422_naming_the_field(
    sender, container, event, field
):
    response = await sender.post(event)
    body = await refused(sender, container, response, 422, "invalid_body")
    assert [problem["field"] for problem in body["problems"]] == [field], body


@pytest.mark.parametrize("amount", ["-10.00", "ten dollars", 12.5, "1e9"])
async def test_a_hint_carrying_an_amount_is_422_as_only_fetched_data_is_used(
    sender, container, stage, amount
):
    event = {
        "type": "transaction.created",
        "data": {"transaction_id": await stage.sale(), "amount": amount},
    }
    response = await sender.post(event)
    body = await refused(sender, container, response, 422, "invalid_body")
    assert body["problems"] == [
        {"field": "body.data.amount", "problem": "Extra inputs are not permitted"}
    ]


async def test_an_oversized_body_is_413(sender, container, stage):
    event = {"type": "transaction.created", "data": {"transaction_id": await stage.sale()}}
    body = json.dumps({**event, "padding": "x" * MAX_BODY_BYTES}).encode()
    response = await sender.post(body)
    detail = (await refused(sender, container, response, 413, "payload_too_large"))["detail"]
    assert str(MAX_BODY_BYTES) in detail


# ---- card data anywhere: refused before it can be stored or logged ---------------------------


@pytest.mark.parametrize(
    "event",
    [
        {"type": "transaction.created", "data": {"transaction_id": 1, "card": PAN}},
        {"type": "transaction.created", "data": {"transaction_id": 1}, "memo": f"card {PAN}"},
        {"type": PAN, "data": {"transaction_id": 1}},
        {"type": "transaction.created", "data": {"transaction_id": int(PAN)}},
        {"type": "transaction.created", "data": {"transaction_id": 1, "cvv": "123"}},
    ],
)
async def test_card_data_in_the_body_is_422(sender, container, event):
    response = await sender.post(event)
    await refused(sender, container, response, 422, "card_data_rejected")


async def test_card_data_in_a_header_or_the_query_is_422(sender, container, stage):
    body = hint_body(await stage.sale())
    in_id = await sender.post(body, headers=sender.headers(body, message_id=PAN))
    await refused(sender, container, in_id, 422, "card_data_rejected")
    in_query = await sender.http.post(
        f"/webhooks/paytrace?ref={PAN}", content=body, headers=sender.headers(body)
    )
    await refused(sender, container, in_query, 422, "card_data_rejected")


# ---- the database unavailable: 503 + Retry-After, nothing stored, the retry succeeds ----------


async def test_a_locked_database_is_503_and_the_senders_retry_is_stored_once(
    database_url, tmp_path, stage
):
    settings = webhook_settings(database_url, tmp_path, stage.url)
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"busy_timeout_ms": 200})}
    )
    container = await open_container(
        settings, {"paytrace-password": "demo123", "paytrace-webhook-secret": SECRET}
    )
    other_process = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        app = create_app(container, embedded_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
        ) as http:
            sender = Sender(http)
            assert (await sender.hint(await stage.sale())).status_code == 200  # secrets cached
            body = hint_body(await stage.sale())
            headers = sender.headers(body, message_id="msg_during_outage")
            other_process.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            during = await sender.post(body, headers=headers)
            other_process.execute("ROLLBACK")
            retried = await sender.post(body, message_id="msg_during_outage")

        assert during.status_code == 503, during.text
        assert during.json()["error"] == "database_unavailable"
        assert during.headers["retry-after"] == "30"
        assert retried.json()["status"] == "accepted"
        assert (await stored_counts(container))["inbox"] == 2
    finally:
        other_process.close()
        await container.aclose()


async def test_an_unreachable_database_is_503(tmp_path, stage):
    settings = webhook_settings("postgresql://payledger@127.0.0.1:9/payledger", tmp_path, stage.url)
    container = build(settings)
    try:
        app = create_app(container, embedded_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
        ) as http:
            response = await Sender(http).hint(await stage.sale())
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "database_unavailable"
        assert response.headers["retry-after"] == "30"
    finally:
        await container.aclose()
