"""The worker runs handlers, retries, dead-letters and stops without losing work."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from payledger.adapters.db.tables import jobs
from payledger.domain.clock import SystemClock
from payledger.domain.errors import RejectedError
from payledger.engine.jobs import Job, JobStatus, NewJob
from payledger.engine.metrics import EngineMetrics
from payledger.engine.queue import Queue
from payledger.engine.retry import Backoff
from payledger.engine.worker import Worker, WorkerOptions, stop_requested


@pytest.fixture
def queue(database) -> Queue:
    fast = Backoff(base_seconds=0.01, cap_seconds=0.02)
    return Queue(database, clock=SystemClock(), backoff=fast, max_attempts=3)


FAST = WorkerOptions(concurrency=8, claim_batch=20, lease_seconds=5, poll_interval=0.02)


async def enqueue(queue: Queue, jobs: list[NewJob]) -> None:
    async with queue.database.transaction() as conn:
        await queue.enqueue_many(conn, jobs)


async def counts(queue: Queue) -> dict[JobStatus, int]:
    async with queue.database.transaction() as conn:
        return await queue.counts(conn)


def metric(metrics: EngineMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_every_job_runs_once_and_is_completed(queue):
    seen: list[int] = []

    async def record(job: Job) -> None:
        seen.append(job.payload["n"])

    await enqueue(queue, [NewJob("record", {"n": n}) for n in range(50)])
    metrics = EngineMetrics()
    await Worker(queue, {"record": record}, options=FAST, metrics=metrics).run_until_idle()
    assert sorted(seen) == list(range(50))
    assert (await counts(queue))[JobStatus.DONE] == 50
    assert metric(metrics, "payledger_jobs_completed_total", kind="record") == 50


async def test_a_flaky_handler_is_retried_until_it_succeeds(queue):
    attempts: list[int] = []

    async def flaky(job: Job) -> None:
        attempts.append(job.attempts)
        if job.attempts < 3:
            raise ConnectionError("D365 unreachable")

    await enqueue(queue, [NewJob("flaky")])
    await Worker(queue, {"flaky": flaky}, options=FAST).run_until_idle(idle_rounds=10)
    assert attempts == [1, 2, 3]
    assert (await counts(queue))[JobStatus.DONE] == 1


async def test_failures_beyond_the_budget_and_permanent_errors_go_dead(queue):
    async def broken(job: Job) -> None:
        raise RuntimeError("bug")

    async def rejected(job: Job) -> None:
        raise RejectedError("invalid customer account")

    await enqueue(queue, [NewJob("broken"), NewJob("rejected"), NewJob("nobody-handles-this")])
    metrics = EngineMetrics()
    handlers = {"broken": broken, "rejected": rejected}
    await Worker(queue, handlers, options=FAST, metrics=metrics).run_until_idle(idle_rounds=10)
    assert (await counts(queue))[JobStatus.DEAD] == 3
    assert metric(metrics, "payledger_jobs_failed_total", kind="broken") == 3
    assert metric(metrics, "payledger_jobs_failed_total", kind="rejected") == 1
    assert metric(metrics, "payledger_jobs_dead_total", kind="rejected") == 1


async def test_jobs_with_one_ordering_key_never_overlap_and_keep_their_order(queue):
    running: set[str] = set()
    order: dict[str, list[int]] = {}

    async def step(job: Job) -> None:
        key = job.ordering_key or ""
        assert key not in running, "two jobs of one key ran at once"
        running.add(key)
        await asyncio.sleep(0.002)
        order.setdefault(key, []).append(job.payload["n"])
        running.discard(key)

    await enqueue(queue, [NewJob("step", {"n": n}, ordering_key=f"k{n % 3}") for n in range(30)])
    await Worker(queue, {"step": step}, options=FAST).run_until_idle()
    assert order == {f"k{k}": list(range(k, 30, 3)) for k in range(3)}


async def test_stop_lets_running_jobs_finish_and_claims_nothing_more(queue):
    started = asyncio.Event()
    finished: list[int] = []

    async def slow(job: Job) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(job.id)

    await enqueue(queue, [NewJob("slow") for _ in range(20)])
    options = WorkerOptions(concurrency=4, claim_batch=4, lease_seconds=5, poll_interval=0.02)
    worker = Worker(queue, {"slow": slow}, options=options)
    task = asyncio.create_task(worker.run())
    await started.wait()
    worker.stop()
    await task
    state = await counts(queue)
    assert state[JobStatus.DONE] == len(finished) == 4
    assert state[JobStatus.PENDING] == 16
    assert state[JobStatus.RUNNING] == 0


async def test_a_long_running_job_sees_the_stop_and_winds_down_before_the_grace_runs_out(
    queue,
):
    started = asyncio.Event()

    async def until_stopped(job: Job) -> None:
        started.set()
        while not stop_requested():
            await asyncio.sleep(0.01)

    await enqueue(queue, [NewJob("until_stopped")])
    options = WorkerOptions(lease_seconds=5, poll_interval=0.02, shutdown_grace=60)
    worker = Worker(queue, {"until_stopped": until_stopped}, options=options)
    task = asyncio.create_task(worker.run())
    await started.wait()
    assert not stop_requested()  # only the worker's own jobs see its stop
    worker.stop()
    async with asyncio.timeout(5):  # not cancelled after 60 s: it finished by itself
        await task
    assert (await counts(queue))[JobStatus.DONE] == 1


async def test_a_long_job_keeps_its_lease_by_renewal(queue):
    async def long(job: Job) -> None:
        await asyncio.sleep(1.0)

    await enqueue(queue, [NewJob("long")])
    options = WorkerOptions(concurrency=1, claim_batch=1, lease_seconds=0.3, poll_interval=0.02)
    metrics = EngineMetrics()
    await Worker(queue, {"long": long}, options=options, metrics=metrics).run_until_idle()
    assert (await counts(queue))[JobStatus.DONE] == 1
    assert metric(metrics, "payledger_job_lease_expiries_total") == 0


async def test_a_job_whose_lease_another_worker_took_is_stopped_and_left_to_it(queue):
    started, stopped = asyncio.Event(), asyncio.Event()

    async def long(job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.set()
            raise

    async with queue.database.transaction() as conn:
        job_id = await queue.enqueue(conn, NewJob("long"))
    options = WorkerOptions(concurrency=1, lease_seconds=0.3, poll_interval=0.02)
    worker = Worker(queue, {"long": long}, options=options)
    running = asyncio.create_task(worker.run())
    await started.wait()
    async with queue.database.transaction() as conn:  # its lease ran out; another took the job
        await conn.execute(update(jobs).where(jobs.c.id == job_id).values(lease_owner="other"))
    async with asyncio.timeout(5):
        await stopped.wait()
    worker.stop()
    await running
    async with queue.database.transaction() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).one()
    assert (row.status, row.lease_owner) == ("running", "other")  # not settled by the loser


async def test_a_batch_handler_gets_a_claim_round_at_once_and_settles_each_job(queue):
    batches: list[list[int]] = []

    async def record_many(jobs):
        batches.append([job.payload["n"] for job in jobs])
        # Odd numbers are refused for good (a permanent error); the others are done.
        return {job.id: RejectedError("odd") if job.payload["n"] % 2 else None for job in jobs}

    await enqueue(queue, [NewJob("record", {"n": n}) for n in range(20)])
    options = WorkerOptions(concurrency=20, claim_batch=20, lease_seconds=5, poll_interval=0.02)
    worker = Worker(queue, {}, options=options, batch_handlers={"record": record_many})
    await worker.run_until_idle()
    assert batches == [list(range(20))]  # one call for all twenty, and no retries
    settled = await counts(queue)
    assert settled[JobStatus.DONE] == 10
    assert settled[JobStatus.DEAD] == 10


async def test_a_batch_handler_that_raises_fails_every_job_of_its_batch(queue):
    calls: list[int] = []

    async def broken(jobs):
        calls.append(len(jobs))
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return {job.id: None for job in jobs}

    await enqueue(queue, [NewJob("record", {"n": n}) for n in range(5)])
    await Worker(queue, {}, options=FAST, batch_handlers={"record": broken}).run_until_idle()
    assert calls[0] == 5 and sum(calls[1:]) == 5  # all five again on their retry
    assert (await counts(queue))[JobStatus.DONE] == 5


async def test_priority_kinds_are_claimed_ahead_of_an_older_backlog(queue):
    order: list[str] = []

    async def note(job: Job) -> None:
        order.append(job.kind)

    await enqueue(queue, [NewJob("backlog", {"n": n}) for n in range(30)])
    await enqueue(queue, [NewJob("flush")])
    options = WorkerOptions(
        concurrency=1, claim_batch=1, lease_seconds=5, poll_interval=0.02, priority_kinds=("flush",)
    )
    await Worker(queue, {"backlog": note, "flush": note}, options=options).run_until_idle()
    assert order[0] == "flush"
    assert order.count("backlog") == 30


async def test_a_worker_for_some_kinds_leaves_the_others_alone(queue):
    ran: list[str] = []

    async def note(job: Job) -> None:
        ran.append(job.kind)

    await enqueue(queue, [NewJob("mine"), NewJob("other"), NewJob("mine")])
    options = WorkerOptions(
        concurrency=4, claim_batch=10, lease_seconds=5, poll_interval=0.02, kinds=("mine",)
    )
    await Worker(queue, {"mine": note}, options=options).run_until_idle()
    assert ran == ["mine", "mine"]
    assert (await counts(queue))[JobStatus.PENDING] == 1  # "other": not claimed, not failed
