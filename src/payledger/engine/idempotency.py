"""Idempotency keys for the request/reply API (IETF ``Idempotency-Key`` semantics).

A key is claimed atomically with its request fingerprint. A retry with the same key and body
gets the stored response; the same key with a different body is a client error; a retry while
the first request is still running is told to wait.

A claim is ``preparing`` while its work has done nothing irreversible yet (the work says so by
claiming with ``preparing=True`` and calling :meth:`IdempotencyKeys.begin_effects` before its
first effect), ``in_flight`` once it may have had an effect, ``done`` with its response stored.
A claim older than the lease belongs to a request that died or hung: a ``preparing`` one is
taken over by the retry (nothing happened), an ``in_flight`` one is never redone
(:attr:`KeyState.STALLED`: its outcome is unknown). ``created_at`` is when the current claim
was made (a takeover renews it); it is the claim's token, so a request whose claim was taken
over can neither start its effects nor store or release the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import idempotency_keys
from payledger.domain.clock import Clock

PREPARING, IN_FLIGHT, DONE = "preparing", "in_flight", "done"


class KeyState(StrEnum):
    STARTED = "started"
    """The key is new (or taken over): the caller must do the work and then :meth:`finish`."""
    REPLAY = "replay"
    """The work was done before: return the stored response."""
    IN_FLIGHT = "in_flight"
    """Another request with this key is still running (HTTP 409)."""
    MISMATCH = "mismatch"
    """The key was used with a different request body (HTTP 422)."""
    STALLED = "stalled"
    """The first request ran past the lease after its work may have had an effect: its
    outcome is unknown, and it is never redone."""


@dataclass(frozen=True)
class KeyClaim:
    state: KeyState
    response_status: int | None = None
    response_body: Any = None
    token: datetime | None = None
    """For :attr:`KeyState.STARTED`: the claim's token, for :meth:`IdempotencyKeys.finish`,
    :meth:`~IdempotencyKeys.release` and :meth:`~IdempotencyKeys.begin_effects`."""


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    """The ``idempotency_keys`` table, scoped per API client."""

    def __init__(
        self,
        clock: Clock,
        *,
        dialect: str,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.clock = clock
        self.dialect = dialect
        self.ttl = ttl
        self.lease = lease

    async def claim(
        self,
        conn: AsyncConnection,
        client: str,
        key: str,
        print_: str,
        *,
        preparing: bool = False,
    ) -> KeyClaim:
        """Claim ``key`` for a request with fingerprint ``print_``; ``preparing``: the work
        will call :meth:`begin_effects` before its first effect."""
        now = self.clock.now()
        status = PREPARING if preparing else IN_FLIGHT
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
                status=status,
                created_at=now,
                expires_at=now + self.ttl,
            )
            .returning(idempotency_keys.c.id)
        )
        if inserted.scalar_one_or_none() is not None:
            return KeyClaim(KeyState.STARTED, token=now)
        row = (
            await conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.client == client, idempotency_keys.c.key == key
                )
            )
        ).one()
        if row.fingerprint != print_:
            return KeyClaim(KeyState.MISMATCH)
        if row.status == DONE:
            return KeyClaim(KeyState.REPLAY, row.response_status, row.response_body)
        if now - row.created_at < self.lease:
            return KeyClaim(KeyState.IN_FLIGHT)
        if row.status == PREPARING:
            return await self._take_over(conn, client, key, row.created_at, status)
        return KeyClaim(KeyState.STALLED)

    async def _take_over(
        self, conn: AsyncConnection, client: str, key: str, token: datetime, status: str
    ) -> KeyClaim:
        """Claim a lapsed ``preparing`` key anew; of two retries racing, one wins."""
        now = self.clock.now()
        taken = await conn.execute(
            update(idempotency_keys)
            .where(self._held(client, key, token), idempotency_keys.c.status == PREPARING)
            .values(status=status, created_at=now, expires_at=now + self.ttl)
        )
        if taken.rowcount != 1:
            return KeyClaim(KeyState.IN_FLIGHT)
        return KeyClaim(KeyState.STARTED, token=now)

    async def begin_effects(
        self, conn: AsyncConnection, client: str, key: str, token: datetime
    ) -> bool:
        """Mark the claim ``token`` as possibly having an effect from now on; False when the
        claim is no longer held (a retry took it over): the work must stop."""
        result = await conn.execute(
            update(idempotency_keys)
            .where(self._held(client, key, token), idempotency_keys.c.status == PREPARING)
            .values(status=IN_FLIGHT)
        )
        return result.rowcount == 1

    async def finish(
        self,
        conn: AsyncConnection,
        client: str,
        key: str,
        status: int,
        body: Any,
        *,
        token: datetime | None = None,
    ) -> None:
        """Store the response so that retries replay it (only while the claim ``token`` is
        held, when given)."""
        await conn.execute(
            update(idempotency_keys)
            .where(self._held(client, key, token))
            .values(status=DONE, response_status=status, response_body=body)
        )

    async def release(
        self, conn: AsyncConnection, client: str, key: str, *, token: datetime | None = None
    ) -> None:
        """Forget a key whose request failed before doing anything, so it can be retried (only
        while the claim ``token`` is held, when given)."""
        await conn.execute(delete(idempotency_keys).where(self._held(client, key, token)))

    async def purge_expired(self, conn: AsyncConnection) -> int:
        result = await conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.expires_at <= self.clock.now())
        )
        return result.rowcount

    @staticmethod
    def _held(client: str, key: str, token: datetime | None) -> ColumnElement[bool]:
        held = and_(idempotency_keys.c.client == client, idempotency_keys.c.key == key)
        return held if token is None else and_(held, idempotency_keys.c.created_at == token)
