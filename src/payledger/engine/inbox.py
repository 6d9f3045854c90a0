"""The inbox: every inbound event, stored once under (source, external_id), before any work.

Accepting an event inserts the inbox row and enqueues the job that will process it in the
same transaction, so an acknowledged event can never be lost, and a re-delivered one is
recognised as a duplicate (and reported as such, not as an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import (
    insert_ignoring_duplicates,
    insert_rows_ignoring_duplicates,
)
from payledger.adapters.db.tables import inbox
from payledger.domain.card_data import find_card_data
from payledger.domain.errors import CardDataRejected
from payledger.engine.jobs import NewJob, require_json
from payledger.engine.queue import Queue


@dataclass(frozen=True)
class InboxReceipt:
    inbox_id: int
    duplicate: bool


@dataclass(frozen=True)
class NewEvent:
    """One event for :meth:`Inbox.accept_many`."""

    external_id: str
    payload: dict[str, Any]
    ordering_key: str | None = None


class Inbox:
    """Durable, deduplicated intake of events from every source."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    async def accept(
        self,
        conn: AsyncConnection,
        *,
        source: str,
        external_id: str,
        payload: dict[str, Any],
        job_kind: str,
        ordering_key: str | None = None,
    ) -> InboxReceipt:
        """Store the event and enqueue its processing, unless it was seen before.

        Raises:
            DomainError: the payload is not a JSON object; nothing is stored.
            CardDataRejected: the payload holds a card number, CSC or track data; nothing
                is stored.
        """
        require_json(payload, f"event {source}/{external_id}")
        card_fields = find_card_data(payload) + find_card_data(external_id, path="external_id")
        if card_fields:
            raise CardDataRejected(card_fields)
        statement = insert_ignoring_duplicates(inbox, self.queue.database.dialect).values(
            source=source,
            external_id=external_id,
            payload=payload,
            status="received",
            received_at=self.queue.clock.now(),
        )
        inserted: int | None = (
            await conn.execute(statement.returning(inbox.c.id))
        ).scalar_one_or_none()
        if inserted is None:
            same_event = (inbox.c.source == source) & (inbox.c.external_id == external_id)
            existing: int = (await conn.execute(select(inbox.c.id).where(same_event))).scalar_one()
            return InboxReceipt(inbox_id=existing, duplicate=True)
        job = NewJob(
            kind=job_kind,
            payload={"inbox_id": inserted},
            dedupe_key=f"inbox:{inserted}",
            ordering_key=ordering_key,
        )
        await self.queue.enqueue(conn, job)
        return InboxReceipt(inbox_id=inserted, duplicate=False)

    async def accept_many(
        self, conn: AsyncConnection, *, source: str, job_kind: str, events: Sequence[NewEvent]
    ) -> list[InboxReceipt]:
        """:meth:`accept` for many events in a few statements; receipts in the given order.

        Raises (before anything is stored) what :meth:`accept` raises for any one of them.
        """
        for event in events:
            require_json(event.payload, f"event {source}/{event.external_id}")
            card_fields = find_card_data(event.payload) + find_card_data(
                event.external_id, path="external_id"
            )
            if card_fields:
                raise CardDataRejected(card_fields)
        if not events:
            return []
        rows = [{"external_id": event.external_id, "payload": event.payload} for event in events]
        statement, parameters = insert_rows_ignoring_duplicates(
            inbox,
            self.queue.database.dialect,
            rows,
            shared={"source": source, "status": "received", "received_at": self.queue.clock.now()},
            returning=(inbox.c.id, inbox.c.external_id),
        )
        inserted = await conn.execute(statement, parameters)
        new = {row.external_id: row.id for row in inserted}
        seen_before = {e.external_id for e in events} - new.keys()
        known: dict[str, int] = {}
        if seen_before:
            existing = await conn.execute(
                select(inbox.c.external_id, inbox.c.id).where(
                    inbox.c.source == source, inbox.c.external_id.in_(sorted(seen_before))
                )
            )
            known = {row.external_id: row.id for row in existing}
        jobs = [
            NewJob(
                kind=job_kind,
                payload={"inbox_id": new[event.external_id]},
                dedupe_key=f"inbox:{new[event.external_id]}",
                ordering_key=event.ordering_key,
            )
            for event in {e.external_id: e for e in events if e.external_id in new}.values()
        ]
        await self.queue.enqueue_many(conn, jobs)
        receipts, first_seen = [], set()
        for event in events:
            fresh = event.external_id in new and event.external_id not in first_seen
            first_seen.add(event.external_id)
            inbox_id = new.get(event.external_id) or known[event.external_id]
            receipts.append(InboxReceipt(inbox_id=inbox_id, duplicate=not fresh))
        return receipts

    async def oldest_unprocessed_age(self, conn: AsyncConnection) -> float:
        """Seconds the oldest event still ``received`` has waited (0 when none)."""
        oldest = await conn.scalar(
            select(func.min(inbox.c.received_at)).where(inbox.c.status == "received")
        )
        return max((self.queue.clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0

    async def get(self, conn: AsyncConnection, inbox_id: int) -> dict[str, Any] | None:
        row = (await conn.execute(select(inbox).where(inbox.c.id == inbox_id))).one_or_none()
        return dict(row._mapping) if row else None

    async def get_many(
        self, conn: AsyncConnection, inbox_ids: Sequence[int]
    ) -> dict[int, dict[str, Any]]:
        """The events among ``inbox_ids`` that exist, by id, in one query."""
        rows = await conn.execute(select(inbox).where(inbox.c.id.in_(list(inbox_ids))))
        return {row.id: dict(row._mapping) for row in rows}

    async def mark(
        self, conn: AsyncConnection, inbox_id: int, status: str, error: str | None = None
    ) -> None:
        """Record how processing of an event ended (``processed``, ``parked``, ...)."""
        await conn.execute(
            update(inbox)
            .where(inbox.c.id == inbox_id)
            .values(status=status, processed_at=self.queue.clock.now(), last_error=error)
        )
