"""The worker: claims batches of jobs, runs their handlers, settles the outcomes.

One loop per process does all database work, each round in a single transaction that settles
the outcomes gathered since the last round and claims as many new jobs as there are free
slots. A separate task renews the leases of jobs still running. On stop, no new jobs are
claimed; running ones get ``shutdown_grace`` seconds, then their leases are left to expire
so another worker picks them up. Nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

import structlog
from opentelemetry.trace import Span
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.domain.errors import PayLedgerError
from payledger.engine.jobs import BatchHandler, Handler, Job, Outcome
from payledger.engine.metrics import EngineMetrics
from payledger.engine.queue import Queue
from payledger.tracing import fail, span

log = structlog.get_logger(__name__)

_stopping: ContextVar[asyncio.Event | None] = ContextVar("worker_stopping", default=None)


def stop_requested() -> bool:
    """Whether the worker running the current job was asked to stop: a long-running handler
    winds down early rather than being cancelled after the shutdown grace."""
    event = _stopping.get()
    return event is not None and event.is_set()


class UnknownJobKind(PayLedgerError):
    """No handler is registered for a job's kind."""


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 16
    claim_batch: int = 100
    lease_seconds: float = 30.0
    poll_interval: float = 0.2
    shutdown_grace: float = 30.0
    priority_kinds: tuple[str, ...] = ()
    """Kinds claimed ahead of older jobs of other kinds (e.g. the flush that sends what a
    backlog of processed events owes, so sending overlaps processing)."""
    kinds: tuple[str, ...] = ()
    """When given, the only kinds claimed (a worker for one kind of work); else all."""


def worker_name() -> str:
    """A name unique to this process, readable in ``lease_owner``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs jobs from a :class:`Queue` with the handlers registered per job kind."""

    def __init__(
        self,
        queue: Queue,
        handlers: Mapping[str, Handler],
        *,
        options: WorkerOptions | None = None,
        metrics: EngineMetrics | None = None,
        name: str | None = None,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        self.queue = queue
        self.handlers = dict(handlers)
        self.batch_handlers = dict(batch_handlers or {})
        """Kinds whose claimed jobs of one round are handed over together."""
        self.options = options or WorkerOptions()
        self.metrics = metrics or EngineMetrics()
        self.name = name or worker_name()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._outcomes: list[Outcome] = []
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_reclaim = 0.0

    def stop(self) -> None:
        """Ask the worker to stop claiming and wind down."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Work until :meth:`stop` is called."""
        log.info("worker.started", worker=self.name)
        _stopping.set(self._stopping)  # seen by the job tasks started from here
        async with self._renewing_leases():
            while not self._stopping.is_set():
                if not await self._round():
                    await self._wait_for_work()
            await self._drain()
        log.info("worker.stopped", worker=self.name)

    async def run_until_idle(self, idle_rounds: int = 2) -> None:
        """Work until the queue has had nothing runnable for ``idle_rounds`` rounds."""
        idle = 0
        async with self._renewing_leases():
            while idle < idle_rounds:
                claimed = await self._round()
                idle = 0 if claimed or self._running else idle + 1
                if not claimed:
                    await self._wait_for_work()
            await self._drain()

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.options.poll_interval)
        self._wake.clear()

    @contextlib.asynccontextmanager
    async def _renewing_leases(self) -> AsyncIterator[None]:
        renewer = asyncio.create_task(self._renew_leases())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _round(self) -> int:
        """Settle finished jobs and claim new ones in one transaction; returns jobs claimed."""
        outcomes, self._outcomes = self._outcomes, []
        free = 0 if self._stopping.is_set() else self.options.concurrency - len(self._running)
        free = min(free, self.options.claim_batch)
        try:
            async with self.queue.database.transaction() as conn:
                if outcomes:
                    await self.queue.settle(conn, self.name, outcomes)
                await self._maybe_reclaim(conn)
                jobs = await self._claim(conn, free)
        except Exception as exc:
            # Keep the outcomes; a later round settles them (or the leases expire and the
            # idempotent handlers run again).
            self._outcomes = outcomes + self._outcomes
            log.warning("worker.round_failed", worker=self.name, error=str(exc))
            await asyncio.sleep(self.options.poll_interval)
            return 0
        self._count_settled(outcomes)
        batches: dict[str, list[Job]] = {}
        for job in jobs:
            self.metrics.claimed.labels(job.kind).inc()
            if job.kind in self.batch_handlers:
                batches.setdefault(job.kind, []).append(job)
            else:
                self._running[job.id] = asyncio.create_task(self._execute(job))
        for kind, batch in batches.items():
            task = asyncio.create_task(self._execute_batch(self.batch_handlers[kind], batch))
            self._running.update((job.id, task) for job in batch)
        return len(jobs)

    async def _claim(self, conn: AsyncConnection, free: int) -> list[Job]:
        lease, first = self.options.lease_seconds, self.options.priority_kinds
        if self.options.kinds:
            return await self.queue.claim(conn, self.name, free, lease, kinds=self.options.kinds)
        jobs = (
            await self.queue.claim(conn, self.name, free, lease, kinds=first)
            if first and free
            else []
        )
        if free > len(jobs):
            jobs += await self.queue.claim(conn, self.name, free - len(jobs), lease)
        return jobs

    async def _maybe_reclaim(self, conn: object) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_reclaim < self.options.lease_seconds / 2:
            return
        self._last_reclaim = now
        reclaimed = await self.queue.reclaim_expired(conn)  # type: ignore[arg-type]
        if reclaimed:
            self.metrics.lease_expiries.inc(reclaimed)
            log.warning("worker.leases_expired", worker=self.name, jobs=reclaimed)

    def _count_settled(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            kind = outcome.job.kind
            if outcome.succeeded:
                self.metrics.completed.labels(kind).inc()
            else:
                self.metrics.failed.labels(kind).inc()
                final = outcome.job.attempts >= outcome.job.max_attempts or (
                    isinstance(outcome.error, PayLedgerError) and not outcome.error.retryable
                )
                if final:
                    self.metrics.dead.labels(kind).inc()

    async def _execute(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        error: BaseException | None = None
        with (
            structlog.contextvars.bound_contextvars(job_id=job.id, job_kind=job.kind),
            _job_span([job]) as current,
        ):
            try:
                if handler is None:
                    raise UnknownJobKind(f"no handler registered for job kind {job.kind!r}")
                await handler(job)
            except Exception as exc:
                error = exc
                fail(current, type(exc).__name__)
                log.warning(
                    "job.failed", attempt=job.attempts, error=f"{type(exc).__name__}: {exc}"
                )
        self._finished(job, error)

    async def _execute_batch(self, handler: BatchHandler, batch: list[Job]) -> None:
        with _job_span(batch) as current:
            try:
                errors = await handler(batch)
            except Exception as exc:
                errors = {job.id: exc for job in batch}
            for job in batch:
                error = errors.get(job.id)
                if error is not None:
                    fail(current, type(error).__name__)
                    with structlog.contextvars.bound_contextvars(job_id=job.id, job_kind=job.kind):
                        log.warning(
                            "job.failed",
                            attempt=job.attempts,
                            error=f"{type(error).__name__}: {error}",
                        )
                self._finished(job, error)

    def _finished(self, job: Job, error: BaseException | None) -> None:
        self._running.pop(job.id, None)
        self._outcomes.append(Outcome(job, error))
        self._wake.set()

    async def _renew_leases(self) -> None:
        interval = self.options.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            ids = list(self._running) + [o.job.id for o in self._outcomes]
            if not ids:
                continue
            try:
                async with self.queue.database.transaction() as conn:
                    held = await self.queue.renew(conn, self.name, ids, self.options.lease_seconds)
            except Exception as exc:
                log.warning("worker.renew_failed", worker=self.name, error=str(exc))
                continue
            self._stop_lost(set(ids) - held)

    def _stop_lost(self, lost: set[int]) -> None:
        """Cancel the running jobs whose leases this worker no longer holds: they expired (a
        stall) and the jobs are pending again or running elsewhere, so this run must not go on
        beside the next one. A batch's task is cancelled only if all its jobs were lost."""
        by_task: dict[asyncio.Task[None], list[int]] = {}
        for job_id, task in self._running.items():
            by_task.setdefault(task, []).append(job_id)
        for task, job_ids in by_task.items():
            if lost.issuperset(job_ids):
                for job_id in job_ids:
                    del self._running[job_id]
                task.cancel()
                log.warning("worker.lease_lost", worker=self.name, jobs=job_ids)

    async def _drain(self) -> None:
        if self._running:
            _done, pending = await asyncio.wait(
                set(self._running.values()), timeout=self.options.shutdown_grace
            )
            for task in pending:
                task.cancel()  # their leases expire and another worker takes them
        if self._outcomes:
            outcomes, self._outcomes = self._outcomes, []
            async with self.queue.database.transaction() as conn:
                await self.queue.settle(conn, self.name, outcomes)
            self._count_settled(outcomes)


def _job_span(batch: list[Job]) -> contextlib.AbstractContextManager[Span]:
    """The span of one run of ``batch`` (one job, or a batch handler's jobs of one kind): it
    continues the trace of the first job's enqueuer and links those of the others, so a
    payment's trace goes on in whichever process claims its job."""
    first = batch[0]
    others = {job.trace_context for job in batch[1:]} - {first.trace_context}
    return span(
        f"job {first.kind}",
        parent=first.trace_context,
        links=sorted(context for context in others if context),
        attributes={
            "payledger.job.kind": first.kind,
            "payledger.job.id": first.id if len(batch) == 1 else None,
            "payledger.job.attempt": first.attempts if len(batch) == 1 else None,
            "payledger.job.batch_size": len(batch) if len(batch) > 1 else None,
        },
    )
