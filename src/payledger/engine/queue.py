"""The durable job queue: enqueue, claim with leases, settle, reclaim, replay.

Every state change is one statement inside the caller's or the queue's own transaction, so a
crash at any point leaves each job either untouched or fully moved. Claims take whole batches:
on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` (many workers, no blocking), on SQLite inside one
``BEGIN IMMEDIATE`` transaction (one writer at a time).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import (
    insert_ignoring_duplicates,
    insert_rows_ignoring_duplicates,
)
from payledger.adapters.db.tables import jobs
from payledger.domain.card_data import redact_card_numbers
from payledger.domain.clock import Clock
from payledger.domain.errors import PayLedgerError, RateLimited
from payledger.engine.jobs import Job, JobStatus, NewJob, Outcome
from payledger.engine.ports import JobQueue
from payledger.engine.retry import Backoff
from payledger.tracing import current_traceparent

_ACTIVE = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
_SHARED = ("status", "attempts", "created_at", "history", "trace_context")
"""Columns every new job starts with the same value in (see ``Queue._row``)."""


@dataclass(frozen=True)
class Settled:
    """What :meth:`Queue.settle` did with a round of outcomes."""

    completed: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    """Outcomes ignored because the job's lease had passed to another worker."""


class Queue(JobQueue):
    """Durable jobs in the ``jobs`` table."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        backoff: Backoff | None = None,
        max_attempts: int = 8,
    ) -> None:
        self.database = database
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self._claims: dict[bool, Any] = {}

    def _row(self, job: NewJob, now: datetime, trace_context: str | None) -> dict[str, Any]:
        return {
            "kind": job.kind,
            "payload": dict(job.payload),
            "status": JobStatus.PENDING.value,
            "dedupe_key": job.dedupe_key,
            "ordering_key": job.ordering_key,
            "run_at": job.run_at or now,
            "attempts": 0,
            "max_attempts": job.max_attempts or self.max_attempts,
            "created_at": now,
            "history": [],
            "trace_context": trace_context,
        }

    async def enqueue(self, conn: AsyncConnection, job: NewJob) -> int | None:
        """Add ``job`` in the caller's transaction; None when its dedupe key already exists."""
        statement = insert_ignoring_duplicates(jobs, self.database.dialect)
        row = self._row(job, self.clock.now(), current_traceparent())
        result = await conn.execute(statement.values(row).returning(jobs.c.id))
        job_id: int | None = result.scalar_one_or_none()
        return job_id

    async def enqueue_many(self, conn: AsyncConnection, new_jobs: Iterable[NewJob]) -> None:
        """Add many jobs in one round trip; duplicates by dedupe key are skipped."""
        now, trace_context = self.clock.now(), current_traceparent()
        rows = [self._row(job, now, trace_context) for job in new_jobs]
        if rows:
            shared = {name: rows[0][name] for name in _SHARED}
            varying = [{k: v for k, v in row.items() if k not in shared} for row in rows]
            statement, parameters = insert_rows_ignoring_duplicates(
                jobs, self.database.dialect, varying, shared=shared
            )
            await conn.execute(statement, parameters)

    async def claim(
        self,
        conn: AsyncConnection,
        owner: str,
        limit: int,
        lease: float,
        *,
        kinds: Sequence[str] = (),
    ) -> list[Job]:
        """Lease up to ``limit`` runnable jobs (of ``kinds`` only, when given) to ``owner`` for
        ``lease`` seconds, oldest ``run_at`` first."""
        now = self.clock.now()
        params: dict[str, Any] = {
            "now": now,
            "limit": limit,
            "owner": owner,
            "lease_until": now + timedelta(seconds=lease),
        }
        if kinds:
            params["kinds"] = list(kinds)
        result = await conn.execute(self._claim_statement(bool(kinds)), params)
        claimed = [Job(**row._mapping) for row in result]
        return sorted(claimed, key=lambda job: job.id)

    def _claim_statement(self, by_kind: bool) -> Any:
        """The claim as one UPDATE ... RETURNING, built once and run with bound values."""
        if by_kind not in self._claims:
            self._claims[by_kind] = self._build_claim(by_kind)
        return self._claims[by_kind]

    def _build_claim(self, by_kind: bool) -> Any:
        earlier = jobs.alias("earlier")
        # Statuses are written literally so that SQLite's planner can use the partial indexes
        # (a bound parameter hides the match; the subquery then scans every active job).
        blocked_by_earlier = exists().where(
            earlier.c.ordering_key == jobs.c.ordering_key,
            earlier.c.id < jobs.c.id,
            earlier.c.status.in_([literal_column(f"'{status}'") for status in _ACTIVE]),
        )
        candidates = (
            select(jobs.c.id)
            .where(
                jobs.c.status == literal_column(f"'{JobStatus.PENDING.value}'"),
                jobs.c.run_at <= bindparam("now"),
                or_(jobs.c.ordering_key.is_(None), ~blocked_by_earlier),
                *([jobs.c.kind.in_(bindparam("kinds", expanding=True))] if by_kind else []),
            )
            .order_by(jobs.c.run_at, jobs.c.id)
            .limit(bindparam("limit"))
        )
        if not self.database.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True, of=jobs)
        return (
            update(jobs)
            .where(jobs.c.id.in_(candidates.scalar_subquery()))
            .values(
                status=JobStatus.RUNNING.value,
                lease_owner=bindparam("owner"),
                lease_until=bindparam("lease_until"),
                attempts=jobs.c.attempts + 1,
            )
            .returning(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.payload,
                jobs.c.attempts,
                jobs.c.max_attempts,
                jobs.c.dedupe_key,
                jobs.c.ordering_key,
                jobs.c.trace_context,
            )
        )

    async def renew(
        self, conn: AsyncConnection, owner: str, ids: Sequence[int], lease: float
    ) -> set[int]:
        """Extend the leases ``owner`` still holds on ``ids``; returns the ids it still held."""
        if not ids:
            return set()
        result = await conn.execute(
            update(jobs)
            .where(jobs.c.id.in_(ids), jobs.c.lease_owner == owner, _running())
            .values(lease_until=self.clock.now() + timedelta(seconds=lease))
            .returning(jobs.c.id)
        )
        return set(result.scalars())

    async def settle(
        self, conn: AsyncConnection, owner: str, outcomes: Sequence[Outcome]
    ) -> Settled:
        """Record how attempts ended: done, retry later with backoff, or dead."""
        now = self.clock.now()
        done_ids = [o.job.id for o in outcomes if o.succeeded]
        completed = 0
        if done_ids:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(done_ids), jobs.c.lease_owner == owner, _running())
                .values(
                    status=JobStatus.DONE.value,
                    finished_at=now,
                    lease_owner=None,
                    lease_until=None,
                    last_error=None,
                )
            )
            completed = result.rowcount
        retried = dead = 0
        for outcome in outcomes:
            if outcome.error is None:
                continue
            verdict = await self._record_failure(conn, owner, outcome.job, outcome.error, now)
            retried += verdict == JobStatus.PENDING
            dead += verdict == JobStatus.DEAD
        lost = len(outcomes) - completed - retried - dead
        return Settled(completed=completed, retried=retried, dead=dead, lost=lost)

    async def _record_failure(
        self, conn: AsyncConnection, owner: str, job: Job, error: BaseException, now: datetime
    ) -> JobStatus | None:
        current = await conn.execute(
            select(jobs.c.history, jobs.c.attempts, jobs.c.max_attempts).where(
                jobs.c.id == job.id, jobs.c.lease_owner == owner, _running()
            )
        )
        row = current.one_or_none()
        if row is None:
            return None
        message = redact_card_numbers(f"{type(error).__name__}: {error}")[:2000]
        permanent = isinstance(error, PayLedgerError) and not error.retryable
        status = (
            JobStatus.DEAD if permanent or row.attempts >= row.max_attempts else JobStatus.PENDING
        )
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        delay = self.backoff.delay(row.attempts, retry_after)
        entry = {"attempt": row.attempts, "at": now.isoformat(), "error": message}
        await conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(
                status=status.value,
                run_at=now + timedelta(seconds=delay) if status is JobStatus.PENDING else now,
                finished_at=now if status is JobStatus.DEAD else None,
                lease_owner=None,
                lease_until=None,
                last_error=message,
                history=[*row.history, entry],
            )
        )
        return status

    async def reclaim_expired(self, conn: AsyncConnection) -> int:
        """Return jobs whose worker stopped renewing its lease (it crashed) to the queue.

        An expired attempt counts against the retry budget, so a job that kills every
        worker that runs it ends in the dead letters instead of looping for ever.
        """
        now = self.clock.now()
        expired = await conn.execute(
            select(
                jobs.c.id, jobs.c.attempts, jobs.c.max_attempts, jobs.c.history, jobs.c.lease_owner
            )
            .where(_running(), jobs.c.lease_until < now)
            .limit(1000)
        )
        count = 0
        for row in expired:
            gave_up = row.attempts >= row.max_attempts
            message = f"lease of {row.lease_owner} expired (worker stopped or crashed)"
            entry = {"attempt": row.attempts, "at": now.isoformat(), "error": message}
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == row.id, _running(), jobs.c.lease_until < now)
                .values(
                    status=(JobStatus.DEAD if gave_up else JobStatus.PENDING).value,
                    finished_at=now if gave_up else None,
                    lease_owner=None,
                    lease_until=None,
                    last_error=message,
                    run_at=now,
                    history=[*row.history, entry],
                )
            )
            count += 1
        return count

    async def replay(
        self,
        *,
        actor: str,
        ids: Sequence[int] | None = None,
        kind: str | None = None,
        error_contains: str | None = None,
    ) -> int:
        """Return dead jobs (all, or those matching) to pending with a fresh retry budget.

        Their attempt history is kept and the replay is written to it and to the audit log.
        """
        now = self.clock.now()
        filters = [jobs.c.status == JobStatus.DEAD.value]
        if ids is not None:  # an empty selection replays nothing, not everything
            filters.append(jobs.c.id.in_(ids))
        if kind:
            filters.append(jobs.c.kind == kind)
        if error_contains:
            filters.append(jobs.c.last_error.contains(error_contains, autoescape=True))
        async with self.database.transaction() as conn:
            dead = (
                await conn.execute(select(jobs.c.id, jobs.c.history).where(and_(*filters)))
            ).all()
            for row in dead:
                entry = {"replayed_at": now.isoformat(), "by": actor}
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id == row.id)
                    .values(
                        status=JobStatus.PENDING.value,
                        attempts=0,
                        run_at=now,
                        finished_at=None,
                        history=[*row.history, entry],
                    )
                )
            if dead:
                await record_audit(
                    conn,
                    at=now,
                    actor=actor,
                    action="jobs.replay",
                    subject=f"{len(dead)} dead job(s)",
                    detail={"ids": [row.id for row in dead][:1000], "kind": kind},
                )
        return len(dead)

    async def counts(self, conn: AsyncConnection) -> dict[JobStatus, int]:
        """Jobs per status."""
        result = await conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
        found = {JobStatus(status): count for status, count in result}
        return {status: found.get(status, 0) for status in JobStatus}

    async def oldest_pending_age(self, conn: AsyncConnection) -> float:
        """Seconds the oldest runnable job has been waiting (0 when none)."""
        now = self.clock.now()
        oldest = await conn.scalar(
            select(func.min(jobs.c.run_at)).where(jobs.c.status == JobStatus.PENDING.value)
        )
        return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0

    async def get(self, conn: AsyncConnection, job_id: int) -> dict[str, Any] | None:
        row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).one_or_none()
        return dict(row._mapping) if row else None


def _running() -> Any:
    return jobs.c.status == JobStatus.RUNNING.value


__all__ = ["Queue", "Settled"]
