"""Idempotency-Key on POST, as the IETF draft specifies it, on a route that counts its work."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from payledger.domain.errors import AmbiguousOutcome, TransientError
from payledger.stores.api_clients import ApiClient
from payledger.web.auth import require_scope
from payledger.web.idempotency import IdempotencyDep, Reply
from payledger.web.problems import ApiProblem
from tests.integration.api.conftest import bearer


class Charge(BaseModel):
    amount: str
    outcome: str = "ok"


class Counter:
    def __init__(self) -> None:
        self.runs = 0
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def app(app, counter):
    router = APIRouter()

    @router.post("/test/charges", status_code=201)
    async def charge(
        body: Charge,
        client: Annotated[ApiClient, Depends(require_scope("payments:write"))],
        idempotency: IdempotencyDep,
    ) -> JSONResponse:
        async def work() -> Reply:
            counter.runs += 1
            counter.started.set()
            if counter.gate is not None:
                await counter.gate.wait()
            if body.outcome == "not_found":
                raise ApiProblem(404, "invoice_not_found", "no such invoice")
            if body.outcome == "d365_down":
                raise TransientError("D365 is down", system="d365")
            if body.outcome == "lost":
                raise AmbiguousOutcome("no answer from PayTrace", system="paytrace")
            status = 402 if body.outcome == "declined" else 201
            return Reply(status, {"charge": counter.runs, "amount": body.amount})

        return await idempotency.run(client, work)

    app.include_router(router)
    return app


@pytest.fixture
async def shop(issue_token) -> dict[str, str]:
    return bearer(await issue_token("webshop", "payments:write"))


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def post(http, headers, body: dict[str, Any], key: str | None = "k-1"):
    if key is not None:
        headers = keyed(headers, key)
    return await http.post("/test/charges", json=body, headers=headers)


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


@pytest.mark.parametrize("outcome", ["not_found", "d365_down"])
async def test_a_request_that_did_nothing_releases_its_key(http, shop, counter, outcome):
    first = await post(http, shop, {"amount": "10.00", "outcome": outcome})
    assert first.status_code in (404, 503)
    again = await post(http, shop, {"amount": "10.00", "outcome": outcome})
    assert again.status_code == first.status_code
    assert "idempotent-replayed" not in again.headers
    assert counter.runs == 2


async def test_a_request_whose_outcome_is_unknown_keeps_its_key_so_it_is_never_redone(
    http, shop, counter
):
    first = await post(http, shop, {"amount": "10.00", "outcome": "lost"})
    assert first.status_code == 502
    again = await post(http, shop, {"amount": "10.00", "outcome": "lost"})
    assert again.status_code == 409
    assert counter.runs == 1


async def test_authentication_comes_before_the_key_check(http, counter):
    response = await post(http, {}, {"amount": "10.00"}, key=None)
    assert response.status_code == 401
