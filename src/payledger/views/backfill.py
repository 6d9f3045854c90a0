"""Where the events a backfill brought in stand: processed, waiting or dead, and their postings.

A read model for ``payledger backfill --wait``; the audit entry of a backfill is written by
``stores.backfills``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import inbox, jobs, postings

CHUNK = 500
OWED = ("planned", "sending", "unknown")


@dataclass
class EventsState:
    """The events of one backfill as the engine sees them now."""

    events: Counter[str] = field(default_factory=Counter)
    """``processed``, ``parked``, ``dead`` (its job gave up) or ``waiting``."""
    postings: Counter[str] = field(default_factory=Counter)
    """By posting state: ``posted``, ``shadow``, ``planned``, ``dead``, ..."""
    waiting_example: str = ""
    """Why one waiting event waits (its last error), if it has failed before."""

    @property
    def settled(self) -> bool:
        """No event waits and no posting is owed."""
        return not self.events["waiting"] and not any(self.postings[s] for s in OWED)

    @property
    def done(self) -> int:
        return sum(count for status, count in self.events.items() if status != "waiting")


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


async def events_state(database: Database, source: str, event_ids: Sequence[str]) -> EventsState:
    """Classify the inbox events ``event_ids`` of ``source`` and count their postings."""
    state = EventsState()
    unique = sorted(set(event_ids))
    async with database.transaction() as conn:
        for chunk in _chunks(unique):
            rows = (
                await conn.execute(
                    select(inbox.c.id, inbox.c.status).where(
                        inbox.c.source == source, inbox.c.external_id.in_(chunk)
                    )
                )
            ).all()
            received = [row.id for row in rows if row.status == "received"]
            for row in rows:
                if row.status != "received":
                    state.events[row.status] += 1
            job_rows = (
                await conn.execute(
                    select(jobs.c.dedupe_key, jobs.c.status, jobs.c.last_error).where(
                        jobs.c.dedupe_key.in_([f"inbox:{i}" for i in received])
                    )
                )
            ).all()
            dead = {job.dedupe_key for job in job_rows if job.status == "dead"}
            for job in job_rows:
                if job.status != "dead" and job.last_error and not state.waiting_example:
                    state.waiting_example = job.last_error
            state.events["dead"] += len(dead)
            state.events["waiting"] += len(received) - len(dead)
            ids = [row.id for row in rows]
            for posting_state in (
                await conn.execute(select(postings.c.state).where(postings.c.inbox_id.in_(ids)))
            ).scalars():
                state.postings[posting_state] += 1
    return state
