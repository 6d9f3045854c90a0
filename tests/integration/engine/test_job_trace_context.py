"""A job carries the trace of the span that enqueued it through the database, and the worker
that runs it continues that trace: on SQLite and PostgreSQL, one job or a batch at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

import pytest
from opentelemetry.trace import StatusCode

from payledger import tracing
from payledger.domain.clock import SystemClock
from payledger.engine.jobs import Job, NewJob
from payledger.engine.queue import Queue
from payledger.engine.worker import Worker, WorkerOptions
from tests.tracing_spans import attributes, named, recorded_spans

FAST = WorkerOptions(concurrency=4, claim_batch=20, lease_seconds=5, poll_interval=0.02)


@pytest.fixture
def queue(database) -> Queue:
    return Queue(database, clock=SystemClock(), max_attempts=1)


async def claimed(queue: Queue) -> list[Job]:
    async with queue.database.transaction() as conn:
        return await queue.claim(conn, "test", 100, 30)


async def test_a_job_enqueued_inside_a_span_stores_its_traceparent_and_claims_it_back(queue):
    with recorded_spans(), tracing.span("ingest") as ingest:
        async with queue.database.transaction() as conn:
            await queue.enqueue(conn, NewJob("one"))
            await queue.enqueue_many(conn, [NewJob("many", {"n": n}) for n in range(3)])
        expected = tracing.current_traceparent()

    jobs = await claimed(queue)
    assert len(jobs) == 4
    assert {job.trace_context for job in jobs} == {expected}
    context = tracing.span_context_of(expected)
    assert context is not None
    assert (context.trace_id, context.span_id) == (
        ingest.get_span_context().trace_id,
        ingest.get_span_context().span_id,
    )


async def test_outside_any_span_or_with_tracing_off_a_job_carries_no_context(queue):
    async with queue.database.transaction() as conn:
        await queue.enqueue(conn, NewJob("untraced"))
        with tracing.span("not recorded: no provider installed"):
            await queue.enqueue_many(conn, [NewJob("also-untraced")])

    assert [job.trace_context for job in await claimed(queue)] == [None, None]


async def test_the_worker_continues_the_enqueuers_trace_and_jobs_it_enqueues_follow(queue):
    async def first(job: Job) -> None:
        async with queue.database.transaction() as conn:
            await queue.enqueue(conn, NewJob("second"))

    async def second(job: Job) -> None:
        raise RuntimeError("fails, and its span says so")

    with recorded_spans() as exported:
        with tracing.span("ingest"):
            async with queue.database.transaction() as conn:
                await queue.enqueue(conn, NewJob("first"))
        worker = Worker(queue, {"first": first, "second": second}, options=FAST)
        await worker.run_until_idle()

    spans = exported.get_finished_spans()
    (ingest,) = named(spans, "ingest")
    (run_first,) = named(spans, "job first")
    (run_second,) = named(spans, "job second")
    assert run_first.parent is not None and run_first.parent.span_id == ingest.context.span_id
    assert run_second.parent is not None and run_second.parent.span_id == run_first.context.span_id
    assert {s.context.trace_id for s in (ingest, run_first, run_second)} == {
        ingest.context.trace_id
    }
    assert attributes(run_first)["payledger.job.kind"] == "first"
    assert run_second.status.status_code is StatusCode.ERROR
    assert attributes(run_second)["error.type"] == "RuntimeError"


async def test_a_batch_continues_its_first_jobs_trace_and_links_the_others(queue):
    async def flush(batch: Sequence[Job]) -> dict[int, BaseException | None]:
        return {job.id: None for job in batch}

    with recorded_spans() as exported:
        for name in ("payment-a", "payment-b"):
            with tracing.span(name):
                async with queue.database.transaction() as conn:
                    await queue.enqueue(conn, NewJob("flush"))
        worker = Worker(queue, {}, batch_handlers={"flush": flush}, options=FAST)
        await worker.run_until_idle()

    spans = exported.get_finished_spans()
    (a,), (b,), (batch,) = named(spans, "payment-a"), named(spans, "payment-b"), named(spans, "job")
    assert batch.context.trace_id == a.context.trace_id
    assert [link.context.span_id for link in batch.links] == [b.context.span_id]
    assert attributes(batch)["payledger.job.batch_size"] == 2


def test_with_tracing_off_the_engine_and_the_service_import_no_sdk():
    probe = (
        "import json, sys, payledger.engine.worker, payledger.web.app, payledger.cli.operate;"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('opentelemetry'))))"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True))
    assert loaded, "the API is imported (the no-op tracer)"
    assert [m for m in loaded if m.startswith("opentelemetry.sdk")] == []
    assert not tracing.enabled()
