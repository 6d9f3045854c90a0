"""D365 business events: stored once (by ``EventId`` and by ``ControlNumber``) with the job that
acts on them, in one transaction, before D365 is told 2xx.

No flow port of its own: the business-events route stores with it, and ``bootstrap`` wraps
:meth:`BusinessEvents.start_charge` as auto-pay's ``ChargeAttempts`` port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import business_events
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue

PROCESS_BUSINESS_EVENT = "d365.business_event"
"""The job kind that acts on one stored business event."""


class EventStatus:
    RECEIVED = "received"
    """Stored; its job will act on it."""
    STORED = "stored"
    """Stored and acknowledged; payledger does not act on this kind of event."""
    CHARGING = "charging"
    """An auto-pay charge was started (the gateway may have acted)."""
    HELD = "held"
    """The charge waits in the risk review; the decision runs the event's job again."""
    REJECTED = "rejected"
    """An operator rejected the charge in the risk review: never charged."""
    PARKED = "parked"
    """Processing gave up (``outcome`` says why); the gateway may have acted. Replaying its
    job looks the charge up before charging, as for ``charging``. An alert was raised."""


@dataclass(frozen=True)
class EventReceipt:
    id: int
    duplicate: bool


@dataclass(frozen=True)
class StoredEvent:
    id: int
    event_id: str
    business_event_id: str
    legal_entity: str
    payload: dict[str, Any]
    status: str
    outcome: str
    received_at: datetime


class BusinessEvents:
    """The ``business_events`` table and the jobs that process its rows."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    async def accept(
        self,
        conn: AsyncConnection,
        *,
        event_id: str,
        control_number: int | None,
        business_event_id: str,
        legal_entity: str,
        payload: dict[str, Any],
        process: bool = True,
        ordering_key: str | None = None,
    ) -> EventReceipt:
        """Store the event and (when ``process``) enqueue the job that acts on it, unless its
        EventId or ControlNumber was seen before: then it is a duplicate, not processed again."""
        inserted = await conn.execute(
            insert_ignoring_duplicates(business_events, self.queue.database.dialect)
            .values(
                event_id=event_id,
                control_number=control_number,
                business_event_id=business_event_id,
                legal_entity=legal_entity,
                payload=payload,
                status=EventStatus.RECEIVED if process else EventStatus.STORED,
                received_at=self.queue.clock.now(),
            )
            .returning(business_events.c.id)
        )
        new_id = inserted.scalar_one_or_none()
        if new_id is None:
            same = business_events.c.event_id == event_id
            if control_number is not None:
                same = or_(same, business_events.c.control_number == control_number)
            existing = await conn.scalar(select(business_events.c.id).where(same).limit(1))
            assert existing is not None  # the insert was skipped because this row exists
            return EventReceipt(int(existing), duplicate=True)
        if not process:
            return EventReceipt(int(new_id), duplicate=False)
        job = NewJob(
            kind=PROCESS_BUSINESS_EVENT,
            payload={"business_event_id": int(new_id)},
            dedupe_key=f"business-event:{new_id}",
            ordering_key=ordering_key,
        )
        await self.queue.enqueue(conn, job)
        return EventReceipt(int(new_id), duplicate=False)

    async def get(self, conn: AsyncConnection, row_id: int) -> StoredEvent | None:
        row = (
            await conn.execute(select(business_events).where(business_events.c.id == row_id))
        ).one_or_none()
        if row is None:
            return None
        return StoredEvent(
            id=row.id,
            event_id=row.event_id,
            business_event_id=row.business_event_id,
            legal_entity=row.legal_entity,
            payload=row.payload,
            status=row.status,
            outcome=row.outcome,
            received_at=row.received_at,
        )

    async def start_charge(self, conn: AsyncConnection, row_id: int) -> bool:
        """Mark the event as charging; True if an earlier attempt may have charged (it had
        marked it charging, or it was parked since)."""
        status = await conn.scalar(
            select(business_events.c.status).where(business_events.c.id == row_id)
        )
        if status == EventStatus.CHARGING:
            return True
        await conn.execute(
            update(business_events)
            .where(business_events.c.id == row_id)
            .values(status=EventStatus.CHARGING)
        )
        return status == EventStatus.PARKED

    async def finish(self, conn: AsyncConnection, row_id: int, status: str, outcome: str) -> None:
        await conn.execute(
            update(business_events)
            .where(business_events.c.id == row_id)
            .values(status=status, outcome=outcome, processed_at=self.queue.clock.now())
        )
