"""Idempotency keys follow the IETF draft: replay, conflict, mismatch, expiry."""

from __future__ import annotations

import pytest

from payledger.engine.idempotency import IdempotencyKeys, KeyState, fingerprint


@pytest.fixture
def keys(database, clock) -> IdempotencyKeys:
    return IdempotencyKeys(clock, dialect=database.dialect)


async def claim(database, keys, key: str, body: dict, client: str = "shop"):
    async with database.transaction() as conn:
        return await keys.claim(conn, client, key, fingerprint("POST", "/api/v1/payments", body))


async def test_a_new_key_starts_then_replays_the_stored_response(database, keys):
    body = {"invoice": "INV-1", "amount": "10.00"}
    assert (await claim(database, keys, "k1", body)).state is KeyState.STARTED
    assert (await claim(database, keys, "k1", body)).state is KeyState.IN_FLIGHT
    async with database.transaction() as conn:
        await keys.finish(conn, "shop", "k1", 201, {"payment": "P-1"})
    replay = await claim(database, keys, "k1", body)
    assert replay.state is KeyState.REPLAY
    assert (replay.response_status, replay.response_body) == (201, {"payment": "P-1"})


async def test_the_same_key_with_another_body_is_a_mismatch(database, keys):
    await claim(database, keys, "k1", {"amount": "10.00"})
    assert (await claim(database, keys, "k1", {"amount": "99.00"})).state is KeyState.MISMATCH


async def test_keys_are_scoped_per_client_and_expire(database, keys, clock):
    await claim(database, keys, "k1", {}, client="shop")
    assert (await claim(database, keys, "k1", {}, client="erp")).state is KeyState.STARTED
    clock.advance(hours=24, seconds=1)
    assert (await claim(database, keys, "k1", {}, client="shop")).state is KeyState.STARTED
