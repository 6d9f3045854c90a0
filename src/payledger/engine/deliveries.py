"""Signed webhook deliveries already received, on the ``idempotency_keys`` table.

A delivery id is kept, with a fingerprint of its body, for the replay window under the client
scope ``webhook:<scope>``, written in the same transaction as the inbox event it delivered: a
delivery is wholly stored (id and event) or not at all.

Deliveries that arrive while a commit is under way are recorded together by the next one: one
transaction and a few statements for all of them (group commit), each caller still returning
only once its delivery is durable. Ids recorded by this process are also remembered, so a
replay is usually recognised before anything is fetched; the table decides in every case.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import idempotency_keys
from payledger.domain.errors import TransientError
from payledger.domain.events import DeliveryRecorded, PaymentObserved
from payledger.engine.inbox import Inbox
from payledger.engine.payment_events import PROCESS_PAYMENT, payment_event

REMEMBERED = 10_000
"""Delivery ids kept in memory for the replay fast path."""
MAX_BATCH = 200


@dataclass
class _Delivery:
    source: str
    delivery_id: str
    fingerprint: str
    event: PaymentObserved
    done: asyncio.Future[DeliveryRecorded] = field(repr=False)


class SqlDeliveryLog:
    """The ``DeliveryLog`` port for one webhook endpoint (``scope``, e.g. ``paytrace``)."""

    def __init__(self, inbox: Inbox, *, scope: str, keep: timedelta) -> None:
        self.inbox = inbox
        self.database = inbox.queue.database
        self.clock = inbox.queue.clock
        self.client = f"webhook:{scope}"
        self.keep = keep
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._pending: list[_Delivery] = []
        self._committing: asyncio.Task[None] | None = None

    async def known_fingerprint(self, delivery_id: str) -> str | None:
        return self._recent.get(delivery_id)

    async def record(
        self, source: str, delivery_id: str, fingerprint: str, event: PaymentObserved
    ) -> DeliveryRecorded:
        done: asyncio.Future[DeliveryRecorded] = asyncio.get_running_loop().create_future()
        self._pending.append(_Delivery(source, delivery_id, fingerprint, event, done))
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
                "client": self.client,
                "key": d.delivery_id,
                "fingerprint": d.fingerprint,
                "status": "done",
                "response_status": 200,
                "response_body": {"event_id": d.event.event_id},
                "created_at": now,
                "expires_at": now + self.keep,
            }
            for d in firsts.values()
        ]
        async with self.database.transaction() as conn:
            inserted = await conn.execute(
                insert_ignoring_duplicates(idempotency_keys, self.database.dialect).returning(
                    idempotency_keys.c.key
                ),
                rows,
            )
            stored = {row.key for row in inserted}
            earlier: dict[str, str] = {}
            if len(stored) < len(firsts):
                earlier = await self._earlier(conn, set(firsts) - stored, now, firsts)
                stored |= set(firsts) - set(earlier)
            fresh = [d for d in firsts.values() if d.delivery_id in stored]
            new_events: set[str] = set()
            for source in {d.source for d in fresh}:
                of_source = [d for d in fresh if d.source == source]
                receipts = await self.inbox.accept_many(
                    conn,
                    source=source,
                    job_kind=PROCESS_PAYMENT,
                    events=[payment_event(source, d.event) for d in of_source],
                )
                new_events |= {
                    d.delivery_id
                    for d, r in zip(of_source, receipts, strict=True)
                    if not r.duplicate
                }
        for d in fresh:
            self._remember(d.delivery_id, d.fingerprint)
        return [
            DeliveryRecorded(new=d.delivery_id in new_events)
            if firsts[d.delivery_id] is d and d.delivery_id in stored
            else DeliveryRecorded(
                new=False,
                earlier_fingerprint=earlier.get(d.delivery_id, firsts[d.delivery_id].fingerprint),
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
