"""Idempotency keys for the request/reply API (IETF ``Idempotency-Key`` semantics).

A key is claimed atomically with its request fingerprint. A retry with the same key and body
gets the stored response; the same key with a different body is a client error; a retry while
the first request is still running is told to wait.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import idempotency_keys
from payledger.domain.clock import Clock


class KeyState(StrEnum):
    STARTED = "started"
    """The key is new: the caller must do the work and then :meth:`finish`."""
    REPLAY = "replay"
    """The work was done before: return the stored response."""
    IN_FLIGHT = "in_flight"
    """Another request with this key is still running (HTTP 409)."""
    MISMATCH = "mismatch"
    """The key was used with a different request body (HTTP 422)."""


@dataclass(frozen=True)
class KeyClaim:
    state: KeyState
    response_status: int | None = None
    response_body: Any = None


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    """The ``idempotency_keys`` table, scoped per API client."""

    def __init__(self, clock: Clock, *, dialect: str, ttl: timedelta = timedelta(hours=24)) -> None:
        self.clock = clock
        self.dialect = dialect
        self.ttl = ttl

    async def claim(self, conn: AsyncConnection, client: str, key: str, print_: str) -> KeyClaim:
        now = self.clock.now()
        await conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.client == client,
                idempotency_keys.c.key == key,
                idempotency_keys.c.expires_at <= now,
            )
        )
        inserted = await conn.execute(
            insert_ignoring_duplicates(idempotency_keys, self.dialect)
            .values(
                client=client,
                key=key,
                fingerprint=print_,
                status="in_flight",
                created_at=now,
                expires_at=now + self.ttl,
            )
            .returning(idempotency_keys.c.id)
        )
        if inserted.scalar_one_or_none() is not None:
            return KeyClaim(KeyState.STARTED)
        row = (
            await conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.client == client, idempotency_keys.c.key == key
                )
            )
        ).one()
        if row.fingerprint != print_:
            return KeyClaim(KeyState.MISMATCH)
        if row.status == "in_flight":
            return KeyClaim(KeyState.IN_FLIGHT)
        return KeyClaim(KeyState.REPLAY, row.response_status, row.response_body)

    async def finish(
        self, conn: AsyncConnection, client: str, key: str, status: int, body: Any
    ) -> None:
        """Store the response so that retries replay it."""
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.client == client, idempotency_keys.c.key == key)
            .values(status="done", response_status=status, response_body=body)
        )

    async def release(self, conn: AsyncConnection, client: str, key: str) -> None:
        """Forget a key whose request failed before doing anything, so it can be retried."""
        await conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.client == client, idempotency_keys.c.key == key
            )
        )

    async def purge_expired(self, conn: AsyncConnection) -> int:
        result = await conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.expires_at <= self.clock.now())
        )
        return result.rowcount
