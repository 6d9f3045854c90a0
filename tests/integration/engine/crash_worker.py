"""A worker process for the crash-recovery test.

``record`` jobs write their effect idempotently (insert-or-ignore on the job's key) and count
every execution; ``explode`` jobs always fail. Runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from sqlalchemy import text

from payledger.adapters.db.database import Database
from payledger.domain.clock import SystemClock
from payledger.engine.jobs import Job
from payledger.engine.queue import Queue
from payledger.engine.retry import Backoff
from payledger.engine.worker import Worker, WorkerOptions


async def main(url: str, name: str) -> None:
    database = Database(url)

    async def record(job: Job) -> None:
        async with database.transaction() as conn:
            await conn.execute(
                text("INSERT INTO effects (key) VALUES (:k) ON CONFLICT DO NOTHING"),
                {"k": job.dedupe_key},
            )
            await conn.execute(
                text("INSERT INTO executions (key) VALUES (:k)"), {"k": job.dedupe_key}
            )

    async def explode(job: Job) -> None:
        raise RuntimeError("this job always fails")

    queue = Queue(database, clock=SystemClock(), backoff=Backoff(0.05, 0.2), max_attempts=3)
    options = WorkerOptions(concurrency=64, claim_batch=64, lease_seconds=2, poll_interval=0.05)
    worker = Worker(queue, {"record": record, "explode": explode}, options=options, name=name)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.stop)
    await worker.run()
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
