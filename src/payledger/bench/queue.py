"""``payledger bench queue``: enqueue and claim+complete throughput of the durable queue."""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import jobs
from payledger.domain.clock import SystemClock
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue


@dataclass(frozen=True)
class QueueBenchResult:
    backend: str
    workers: int
    jobs: int
    enqueue_per_second: float
    complete_per_second: float
    worker_peak_rss_mb: float
    parent_peak_rss_mb: float


async def _enqueue(database: Database, count: int) -> float:
    queue = Queue(database, clock=SystemClock())
    started = time.perf_counter()
    for first in range(0, count, 1000):
        async with database.transaction() as conn:
            await queue.enqueue_many(
                conn,
                [NewJob("bench.noop", {"n": n}) for n in range(first, min(first + 1000, count))],
            )
    return count / (time.perf_counter() - started)


async def _done(database: Database) -> int:
    async with database.transaction() as conn:
        return (
            await conn.scalar(select(func.count()).select_from(jobs).where(jobs.c.status == "done"))
            or 0
        )


async def bench_queue(url: str, backend: str, *, jobs_count: int, workers: int) -> QueueBenchResult:
    """Enqueue ``jobs_count`` no-op jobs, then drain them with ``workers`` processes."""
    database = Database(url)
    await migrate(database)
    enqueue_rate = await _enqueue(database, jobs_count)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "payledger.bench.queue_worker", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a benchmark worker failed to start")
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    while await _done(database) < jobs_count:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    reports = [
        json.loads(proc.communicate(timeout=60)[0].strip().splitlines()[-1]) for proc in procs
    ]
    await database.dispose()
    return QueueBenchResult(
        backend=backend,
        workers=workers,
        jobs=jobs_count,
        enqueue_per_second=enqueue_rate,
        complete_per_second=jobs_count / elapsed,
        worker_peak_rss_mb=max(r["peak_rss_mb"] for r in reports),
        parent_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
