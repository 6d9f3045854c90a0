"""Each tick of a schedule fires exactly once, however many processes ask."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import jobs
from payledger.domain.errors import ConfigError
from payledger.engine.queue import Queue
from payledger.engine.schedule import Schedule, Scheduler

NIGHTLY = Schedule(
    name="reconcile", cron="30 2 * * *", job_kind="reconcile.day", timezone="America/Los_Angeles"
)


async def fire(scheduler: Scheduler):
    async with scheduler.queue.database.transaction() as conn:
        return await scheduler.fire_due(conn)


async def test_many_schedulers_fire_each_tick_once(database, clock):
    queue = Queue(database, clock=clock)
    schedulers = [Scheduler(queue, [NIGHTLY], name=f"node-{n}") for n in range(5)]
    fired = await asyncio.gather(*(fire(s) for s in schedulers))
    assert sum(len(f) for f in fired) == 1
    async with database.transaction() as conn:
        [job] = (await conn.execute(select(jobs))).all()
    assert job.kind == "reconcile.day"
    # 2026-03-24 17:00 UTC is 10:00 in Los Angeles (PDT); the last 02:30 was that morning.
    assert job.payload["tick"] == "2026-03-24T09:30:00+00:00"


async def test_the_next_tick_fires_once_its_time_has_come(database, clock):
    queue = Queue(database, clock=clock)
    scheduler = Scheduler(queue, [NIGHTLY], name="node")
    assert len(await fire(scheduler)) == 1
    clock.advance(hours=12)
    assert await fire(scheduler) == []
    clock.advance(hours=5)  # past 02:30 Pacific the next day
    assert [tick.isoformat() for _, tick in await fire(scheduler)] == ["2026-03-25T09:30:00+00:00"]


def test_an_invalid_cron_expression_is_a_configuration_error():
    with pytest.raises(ConfigError, match="reconcile"):
        Schedule(name="reconcile", cron="every night", job_kind="x")
