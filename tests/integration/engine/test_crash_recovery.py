"""Three worker processes on PostgreSQL, one SIGKILLed mid-run: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import jobs
from payledger.domain.clock import SystemClock
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

GOOD_JOBS = 20_000
FAILING_JOBS = 50
WORKER = Path(__file__).with_name("crash_worker.py")


def start_worker(url: str, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), url, name], cwd=Path(__file__).parents[3])


async def scalar(database: Database, query) -> int:
    async with database.transaction() as conn:
        return await conn.scalar(query) or 0


async def test_a_killed_worker_loses_nothing_and_duplicates_no_effect(postgres_url):
    database = Database(postgres_url)
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE effects (key text PRIMARY KEY)"))
        await conn.execute(text("CREATE TABLE executions (key text NOT NULL)"))
        queue = Queue(database, clock=SystemClock())
        await queue.enqueue_many(
            conn, [NewJob("record", dedupe_key=f"effect-{n}") for n in range(GOOD_JOBS)]
        )
        await queue.enqueue_many(
            conn, [NewJob("explode", dedupe_key=f"bad-{n}") for n in range(FAILING_JOBS)]
        )

    workers = [start_worker(postgres_url, f"w{n}") for n in range(3)]
    try:
        done = jobs.c.status == "done"
        while await scalar(database, select(func.count()).where(done)) < GOOD_JOBS // 4:
            await asyncio.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # mid-run, with a batch in flight
        workers[0].wait(timeout=10)
        deadline = time.monotonic() + 240
        settled = jobs.c.status.in_(("done", "dead"))
        while (
            await scalar(database, select(func.count()).where(settled)) < GOOD_JOBS + FAILING_JOBS
        ):
            assert time.monotonic() < deadline, "jobs were lost: the queue never settled"
            await asyncio.sleep(0.2)
    finally:
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        for worker in workers[1:]:
            assert worker.wait(timeout=60) == 0, "a worker did not stop gracefully on SIGTERM"

    effects = await scalar(database, text("SELECT count(*) FROM effects"))
    distinct_executed = await scalar(database, text("SELECT count(DISTINCT key) FROM executions"))
    dead = await scalar(database, select(func.count()).where(jobs.c.status == "dead"))
    dead_good = await scalar(
        database, select(func.count()).where(jobs.c.status == "dead", jobs.c.kind == "record")
    )
    reclaimed = await scalar(
        database, select(func.count()).where(jobs.c.kind == "record", jobs.c.attempts > 1)
    )
    await database.dispose()
    assert effects == GOOD_JOBS  # every job's effect, exactly once
    assert distinct_executed == GOOD_JOBS
    assert dead == FAILING_JOBS and dead_good == 0  # only the deliberately failing jobs
    assert reclaimed > 0  # the killed worker's in-flight jobs really were taken over
