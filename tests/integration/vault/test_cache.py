"""Cached values of an external store: reused for the TTL, dropped on write or on request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payledger.adapters.vault import CachedSecrets, SecretNotFound


@pytest.fixture
def cached(hashicorp, clock) -> CachedSecrets:
    return CachedSecrets(hashicorp, timedelta(seconds=300), clock)


async def test_a_value_is_reused_until_the_ttl_then_the_rotated_one_is_read(
    cached, hashicorp, vault_sandbox, clock
):
    await hashicorp.set("paytrace-password", "first-Value", actor="ops")
    assert (await cached.get("paytrace-password")).get_secret_value() == "first-Value"
    await hashicorp.set("paytrace-password", "second-Value", actor="operator")
    served = vault_sandbox.requests
    clock.advance(seconds=299)
    assert (await cached.get("paytrace-password")).get_secret_value() == "first-Value"
    assert vault_sandbox.requests == served  # answered from the cache
    clock.advance(seconds=1)
    assert (await cached.get("paytrace-password")).get_secret_value() == "second-Value"


async def test_forget_drops_an_entry_early(cached, hashicorp):
    await hashicorp.set("d365-client-secret", "first-Value", actor="ops")
    await cached.get("d365-client-secret")
    await hashicorp.set("d365-client-secret", "second-Value", actor="operator")
    cached.forget("d365-client-secret")
    assert (await cached.get("d365-client-secret")).get_secret_value() == "second-Value"


async def test_writes_and_deletes_through_the_cache_are_seen_at_once(cached):
    await cached.set("alerts-webhook-url", "first-Value", actor="ops")
    await cached.get("alerts-webhook-url")
    await cached.set("alerts-webhook-url", "second-Value", actor="ops")
    assert (await cached.get("alerts-webhook-url")).get_secret_value() == "second-Value"
    assert await cached.delete("alerts-webhook-url", actor="ops")
    with pytest.raises(SecretNotFound):
        await cached.get("alerts-webhook-url")


async def test_a_value_never_shows_in_reprs(cached):
    await cached.set("paytrace-password", "hidden-Value", actor="ops")
    value = await cached.get("paytrace-password")
    assert "hidden-Value" not in repr(value) + str(value) + repr(cached.__dict__)
