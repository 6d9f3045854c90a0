"""Cron-style schedules whose every tick fires exactly once across any number of processes.

Each process may call :meth:`Scheduler.fire_due` as often as it likes. A tick is claimed by
inserting ``(schedule, fire_at)`` under a unique constraint, and its job is enqueued in the
same transaction: whichever process inserts first fires it; the others see a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import schedule_ticks
from payledger.domain.errors import ConfigError
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue


@dataclass(frozen=True)
class Schedule:
    """Run ``job_kind`` at every time matching ``cron`` (five fields) in ``timezone``."""

    name: str
    cron: str
    job_kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    ordering_key: str | None = None
    """Give ticks an ordering key so a slow run is never overlapped by the next tick's."""

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.cron):
            raise ConfigError(f"schedule {self.name!r}: invalid cron expression {self.cron!r}")

    def latest_tick(self, now: datetime) -> datetime:
        """The most recent time at or before ``now`` when this schedule was due."""
        local_now = now.astimezone(ZoneInfo(self.timezone))
        itr = croniter(self.cron, local_now)
        tick: datetime = itr.get_prev(datetime)
        if croniter.match(self.cron, local_now.replace(second=0, microsecond=0)):
            tick = local_now.replace(second=0, microsecond=0)
        return tick.astimezone(now.tzinfo)


class Scheduler:
    """Fires due ticks of a set of schedules into the queue."""

    def __init__(self, queue: Queue, schedules: Sequence[Schedule], *, name: str) -> None:
        self.queue = queue
        self.schedules = list(schedules)
        self.name = name

    async def fire_due(self, conn: AsyncConnection) -> list[tuple[str, datetime]]:
        """Fire each schedule's latest tick unless some process already did; returns fired."""
        now = self.queue.clock.now()
        fired = []
        for schedule in self.schedules:
            tick = schedule.latest_tick(now)
            job = NewJob(
                kind=schedule.job_kind,
                payload={**schedule.payload, "tick": tick.isoformat()},
                dedupe_key=f"schedule:{schedule.name}:{tick.isoformat()}",
                ordering_key=schedule.ordering_key,
            )
            statement = insert_ignoring_duplicates(schedule_ticks, self.queue.database.dialect)
            claimed = await conn.execute(
                statement.values(
                    schedule=schedule.name, fire_at=tick, fired_by=self.name
                ).returning(schedule_ticks.c.id)
            )
            if claimed.scalar_one_or_none() is None:
                continue
            await self.queue.enqueue(conn, job)
            fired.append((schedule.name, tick))
        return fired
