"""A worker process for the queue benchmark: runs no-op jobs until the queue is idle.

Protocol on stdio: prints ``ready``, waits for a line on stdin, works, then prints one JSON
line with the jobs it completed and its peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

from payledger.adapters.db.database import Database
from payledger.domain.clock import SystemClock
from payledger.engine.jobs import Job
from payledger.engine.metrics import EngineMetrics
from payledger.engine.queue import Queue
from payledger.engine.worker import Worker, WorkerOptions


async def noop(_job: Job) -> None:
    return None


async def main(url: str) -> None:
    database = Database(url)
    metrics = EngineMetrics()
    options = WorkerOptions(concurrency=400, claim_batch=200, lease_seconds=30, poll_interval=0.01)
    worker = Worker(
        Queue(database, clock=SystemClock()), {"bench.noop": noop}, options=options, metrics=metrics
    )
    await database.ping()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await worker.run_until_idle(idle_rounds=5)
    completed = metrics.registry.get_sample_value(
        "payledger_jobs_completed_total", {"kind": "bench.noop"}
    )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"completed": int(completed or 0), "peak_rss_mb": round(peak_kb / 1024, 1)}),
        flush=True,
    )
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
