"""The ``DeliveryLog`` port (``flows.ports``): signed webhook deliveries already received, on
the ``idempotency_keys`` table, and their hints in the inbox.

A delivery id is kept, with a fingerprint of its body, for the replay window under the client
scope ``webhook:<scope>``, written in the same transaction as the inbox row of the hint it
delivered and the job that acts on the hint: a delivery is wholly stored (id, hint and job) or
not at all.

Deliveries that arrive while a commit is under way are recorded together by the next one: one
transaction and a few statements for all of them (group commit), each caller still returning
only once its delivery is durable. Ids recorded by this process are also remembered, so a
replay is usually recognised without a database round trip; the table decides in every case.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_rows_ignoring_duplicates
from payledger.adapters.db.tables import idempotency_keys
from payledger.domain.errors import TransientError
from payledger.domain.events import DeliveryRecorded, PaymentHinted
from payledger.engine.inbox import Inbox, NewEvent

REMEMBERED = 10_000
"""Delivery ids kept in memory for the replay fast path."""
MAX_BATCH = 200


@dataclass
class _Delivery:
    hint: PaymentHinted
    fingerprint: str
    done: asyncio.Future[DeliveryRecorded] = field(repr=False)

    @property
    def delivery_id(self) -> str:
        return self.hint.delivery_id


class SqlDeliveryLog:
    """The ``DeliveryLog`` port for one webhook endpoint (``scope``, e.g. ``paytrace``): hints
    go to the inbox as ``source`` events, each with a ``job_kind`` job ordered by the hinted
    transaction."""

    def __init__(
        self, inbox: Inbox, *, scope: str, keep: timedelta, source: str, job_kind: str
    ) -> None:
        self.inbox = inbox
        self.database = inbox.queue.database
        self.clock = inbox.queue.clock
        self.client = f"webhook:{scope}"
        self.keep = keep
        self.source = source
        self.job_kind = job_kind
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._pending: list[_Delivery] = []
        self._committing: asyncio.Task[None] | None = None

    async def known_fingerprint(self, delivery_id: str) -> str | None:
        return self._recent.get(delivery_id)

    async def record(self, hint: PaymentHinted, fingerprint: str) -> DeliveryRecorded:
        done: asyncio.Future[DeliveryRecorded] = asyncio.get_running_loop().create_future()
        self._pending.append(_Delivery(hint, fingerprint, done))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_pending())
        return await done

    async def _commit_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                outcomes = await self._store(batch)
            except TransientError as exc:
                _settle(batch, error=exc)
            except Exception:  # one bad delivery must not fail the others: store each alone
                for delivery in batch:
                    await self._store_alone(delivery)
            else:
                _settle(batch, outcomes=outcomes)

    async def _store_alone(self, delivery: _Delivery) -> None:
        try:
            outcome = await self._store([delivery])
        except Exception as exc:
            _settle([delivery], error=exc)
        else:
            _settle([delivery], outcomes=outcome)

    async def _store(self, batch: list[_Delivery]) -> list[DeliveryRecorded]:
        now = self.clock.now()
        firsts = {d.delivery_id: d for d in reversed(batch)}  # the first of each id wins
        rows = [
            {
                "key": d.delivery_id,
                "fingerprint": d.fingerprint,
                "response_body": {"event_id": d.hint.event_id},
            }
            for d in firsts.values()
        ]
        shared = {
            "client": self.client,
            "status": "done",
            "response_status": 200,
            "created_at": now,
            "expires_at": now + self.keep,
        }
        async with self.database.transaction() as conn:
            statement, parameters = insert_rows_ignoring_duplicates(
                idempotency_keys,
                self.database.dialect,
                rows,
                shared=shared,
                returning=(idempotency_keys.c.key,),
            )
            inserted = await conn.execute(statement, parameters)
            stored = {row.key for row in inserted}
            earlier: dict[str, str] = {}
            if len(stored) < len(firsts):
                earlier = await self._earlier(conn, set(firsts) - stored, now, firsts)
                stored |= set(firsts) - set(earlier)
            fresh = [d for d in firsts.values() if d.delivery_id in stored]
            receipts = await self.inbox.accept_many(
                conn,
                source=self.source,
                job_kind=self.job_kind,
                events=[
                    NewEvent(
                        d.hint.event_id,
                        d.hint.payload,
                        ordering_key=f"{self.source}:{d.hint.transaction_id}",
                    )
                    for d in fresh
                ],
            )
        for d, receipt in zip(fresh, receipts, strict=True):
            self._remember(d.delivery_id, d.fingerprint)
            if receipt.duplicate:
                # The very same signed delivery (id and signing time) was stored before and
                # its delivery record has since expired: a replay, whose hint is stored.
                earlier[d.delivery_id] = d.fingerprint
        return [
            DeliveryRecorded(event_id=d.hint.event_id)
            if firsts[d.delivery_id] is d and d.delivery_id not in earlier
            else DeliveryRecorded(
                earlier_fingerprint=earlier.get(d.delivery_id, firsts[d.delivery_id].fingerprint)
            )
            for d in batch
        ]

    async def _earlier(
        self,
        conn: AsyncConnection,
        keys: set[str],
        now: datetime,
        firsts: dict[str, _Delivery],
    ) -> dict[str, str]:
        """Fingerprints of ``keys`` stored before; ids whose record expired are taken over."""
        rows = await conn.execute(
            select(
                idempotency_keys.c.key,
                idempotency_keys.c.fingerprint,
                idempotency_keys.c.expires_at,
            ).where(idempotency_keys.c.client == self.client, idempotency_keys.c.key.in_(keys))
        )
        earlier: dict[str, str] = {}
        for row in rows:
            if row.expires_at > now:
                earlier[row.key] = row.fingerprint
                continue
            await conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.client == self.client, idempotency_keys.c.key == row.key)
                .values(
                    fingerprint=firsts[row.key].fingerprint,
                    created_at=now,
                    expires_at=now + self.keep,
                )
            )
        return earlier

    def _remember(self, delivery_id: str, fingerprint: str) -> None:
        self._recent[delivery_id] = fingerprint
        self._recent.move_to_end(delivery_id)
        while len(self._recent) > REMEMBERED:
            self._recent.popitem(last=False)


def _settle(
    batch: list[_Delivery],
    *,
    outcomes: list[DeliveryRecorded] | None = None,
    error: BaseException | None = None,
) -> None:
    for index, delivery in enumerate(batch):
        if delivery.done.done():
            continue  # the caller went away; its delivery is stored all the same
        if outcomes is not None:
            delivery.done.set_result(outcomes[index])
        else:
            delivery.done.set_exception(error or RuntimeError("not stored"))
