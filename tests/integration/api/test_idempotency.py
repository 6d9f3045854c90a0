"""Idempotency-Key on POST, as the IETF draft specifies it, on a route that counts its work."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.integration.api import counting_route
from tests.integration.api.conftest import bearer
from tests.integration.api.counting_route import Counter, post


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def app(app, counter):
    counting_route.install(app, counter)
    return app


@pytest.fixture
async def shop(issue_token) -> dict[str, str]:
    return bearer(await issue_token("webshop", "payments:write"))


async def test_a_missing_key_is_400_and_nothing_runs(http, shop, counter):
    response = await post(http, shop, {"amount": "10.00"}, key=None)
    assert response.status_code == 400
    assert response.json()["error"] == "idempotency_key_missing"
    assert "Idempotency-Key" in response.json()["detail"]
    assert counter.runs == 0


@pytest.mark.parametrize("key", [b"", b"x" * 256, "caf\u00e9".encode(), b"tab\there"])
async def test_a_malformed_key_is_400(http, shop, counter, key):
    response = await http.post(
        "/test/charges",
        json={"amount": "1.00"},
        headers={**shop, "Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "idempotency_key_invalid"
    assert counter.runs == 0


async def test_a_replay_returns_the_stored_status_and_body_without_running_again(
    http, shop, counter
):
    first = await post(http, shop, {"amount": "10.00"})
    again = await post(http, shop, {"amount": "10.00"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"charge": 1, "amount": "10.00"}
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert counter.runs == 1


async def test_a_stored_decline_is_replayed_as_a_decline(http, shop, counter):
    first = await post(http, shop, {"amount": "1.00", "outcome": "declined"})
    again = await post(http, shop, {"outcome": "declined", "amount": "1.00"})  # same, reordered
    assert first.status_code == again.status_code == 402
    assert counter.runs == 1


async def test_the_quoted_form_of_the_draft_is_the_same_key(http, shop, counter):
    await post(http, shop, {"amount": "10.00"}, key="abc-123")
    again = await post(http, shop, {"amount": "10.00"}, key='"abc-123"')
    assert again.headers["idempotent-replayed"] == "true"
    assert counter.runs == 1


async def test_the_same_key_with_another_body_is_422(http, shop, counter):
    await post(http, shop, {"amount": "10.00"})
    response = await post(http, shop, {"amount": "99.00"})
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert counter.runs == 1


async def test_a_retry_while_the_first_is_in_flight_is_409(http, shop, counter):
    counter.gate = asyncio.Event()
    first = asyncio.create_task(post(http, shop, {"amount": "10.00"}))
    await asyncio.wait_for(counter.started.wait(), 10)
    retry = await post(http, shop, {"amount": "10.00"})
    assert retry.status_code == 409
    assert retry.json()["error"] == "idempotency_key_in_flight"
    assert retry.headers["retry-after"] == "1"
    counter.gate.set()
    assert (await first).status_code == 201
    assert (await post(http, shop, {"amount": "10.00"})).status_code == 201
    assert counter.runs == 1


async def test_keys_are_scoped_per_api_client(http, shop, issue_token, counter):
    other = bearer(await issue_token("pos-terminal", "payments:write"))
    await post(http, shop, {"amount": "10.00"})
    response = await post(http, other, {"amount": "55.00"})  # same key, other client
    assert response.status_code == 201
    assert response.json() == {"charge": 2, "amount": "55.00"}


async def test_keys_expire_after_the_configured_time(http, shop, clock, counter):
    await post(http, shop, {"amount": "10.00"})
    clock.advance(minutes=59)
    assert (await post(http, shop, {"amount": "20.00"})).status_code == 422
    clock.advance(minutes=2)  # ttl is 1 hour in these tests
    response = await post(http, shop, {"amount": "20.00"})
    assert response.status_code == 201
    assert counter.runs == 2


@pytest.mark.parametrize(
    ("outcome", "status", "error"),
    [
        ("not_found", 404, "invoice_not_found"),
        ("card_data", 422, "card_data_rejected"),
        ("lost", 502, "outcome_unknown"),
    ],
)
async def test_a_final_refusal_is_stored_and_replayed_never_left_in_flight(
    http, shop, counter, outcome, status, error
):
    body = {"amount": "10.00", "outcome": outcome}
    first = await post(http, shop, body)
    again = await post(http, shop, body)
    assert first.status_code == again.status_code == status
    assert first.json()["error"] == error
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert counter.runs == 1


@pytest.mark.parametrize(
    ("outcome", "status"), [("busy", 409), ("throttled", 429), ("d365_down", 503)]
)
async def test_an_answer_that_says_try_again_releases_the_key(http, shop, counter, outcome, status):
    first = await post(http, shop, {"amount": "10.00", "outcome": outcome})
    assert first.status_code == status
    again = await post(http, shop, {"amount": "10.00", "outcome": outcome})
    assert again.status_code == status
    assert "idempotent-replayed" not in again.headers
    assert counter.runs == 2


async def test_a_crash_before_an_announced_effect_releases_the_key(app, shop, counter):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://payledger.test") as http:
        body = {"amount": "10.00", "outcome": "crash", "announces": True}
        assert (await post(http, shop, body)).status_code == 500
        assert (await post(http, shop, body)).status_code == 500  # not 409: it was released
        unannounced = {"amount": "10.00", "outcome": "crash"}
        assert (await post(http, shop, unannounced, key="k-2")).status_code == 500
        held = await post(http, shop, unannounced, key="k-2")
    assert held.status_code == 409  # it may have had an effect: never redone blindly
    assert counter.runs == 3


async def test_authentication_comes_before_the_key_check(http, counter):
    response = await post(http, {}, {"amount": "10.00"}, key=None)
    assert response.status_code == 401
