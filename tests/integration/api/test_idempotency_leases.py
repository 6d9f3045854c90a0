"""A key whose request died or hung is not stuck for a day: after the lease a retry takes it over
when the first had begun nothing irreversible, and is told the outcome is unknown otherwise."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from payledger.config import ApiSettings
from payledger.engine.idempotency import fingerprint
from tests.integration.api import counting_route
from tests.integration.api.conftest import bearer
from tests.integration.api.counting_route import PATH, Counter, post

LEASE = timedelta(seconds=60)
ANNOUNCED = {"amount": "10.00", "announces": True}
UNANNOUNCED = {"amount": "10.00"}


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={"api": ApiSettings(idempotency_ttl_hours=1, idempotency_lease_seconds=60)}
    )


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


async def a_dead_request(container, body, *, effects_begun: bool) -> None:
    """What a process that died while running ``body`` under key ``k-1`` leaves behind."""
    keys, announced = container.idempotency, body.get("announces", False)
    async with container.database.transaction() as conn:
        claim = await keys.claim(
            conn, "webshop", "k-1", fingerprint("POST", PATH, body), preparing=announced
        )
        if effects_begun:
            assert await keys.begin_effects(conn, "webshop", "k-1", claim.token)


async def test_within_the_lease_a_retry_is_told_to_wait(http, shop, container, clock, counter):
    await a_dead_request(container, ANNOUNCED, effects_begun=False)
    clock.advance(seconds=59)
    response = await post(http, shop, ANNOUNCED)
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_in_flight"
    assert counter.runs == 0


async def test_a_request_that_died_before_its_effect_is_taken_over_after_the_lease(
    http, shop, container, clock, counter
):
    await a_dead_request(container, ANNOUNCED, effects_begun=False)
    clock.advance(seconds=61)

    taken_over = await post(http, shop, ANNOUNCED)
    replayed = await post(http, shop, ANNOUNCED)

    assert taken_over.status_code == 201 and "idempotent-replayed" not in taken_over.headers
    assert replayed.json() == taken_over.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    assert counter.effects == 1


@pytest.mark.parametrize(
    ("body", "effects_begun"),
    [(ANNOUNCED, True), (UNANNOUNCED, False)],
    ids=["effect_begun", "work_that_does_not_announce"],
)
async def test_a_request_that_may_have_had_its_effect_is_never_redone(
    http, shop, container, clock, counter, body, effects_begun
):
    await a_dead_request(container, body, effects_begun=effects_begun)
    clock.advance(seconds=61)

    response = await post(http, shop, body)

    assert response.status_code == 502
    assert response.json()["error"] == "outcome_unknown"
    assert "not repeated" in response.json()["detail"]
    assert counter.runs == 0


async def test_a_hung_request_whose_key_was_taken_over_stops_before_its_effect(
    http, shop, clock, counter
):
    counter.gate = asyncio.Event()
    hung = asyncio.create_task(post(http, shop, ANNOUNCED))
    await asyncio.wait_for(counter.started.wait(), 10)
    clock.advance(seconds=61)

    retry = await post(http, shop, ANNOUNCED)  # the gate holds only the first run
    counter.gate.set()
    late = await hung

    assert retry.status_code == 201
    assert late.status_code == 409 and "took it over" in late.json()["detail"]
    assert counter.effects == 1
    assert (await post(http, shop, ANNOUNCED)).json() == retry.json()
