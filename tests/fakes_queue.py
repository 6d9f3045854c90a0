"""A fake of the engine's ``JobQueue``: jobs in a dict, the clock and backoff injected. It
ignores ``conn`` (there is no transaction to join) and records replays as the audit would."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import final

from payledger.domain.card_data import redact_card_numbers
from payledger.domain.clock import Clock
from payledger.domain.errors import PayLedgerError, RateLimited
from payledger.engine.jobs import Job, JobStatus, NewJob, Outcome
from payledger.engine.ports import JobQueue
from payledger.engine.queue import Settled
from payledger.engine.retry import Backoff

PENDING, RUNNING, DONE, DEAD = JobStatus.PENDING, JobStatus.RUNNING, JobStatus.DONE, JobStatus.DEAD


@dataclass
class FakeJobRow:
    job: Job
    status: JobStatus
    run_at: datetime
    owner: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None


@final
class FakeQueue(JobQueue):
    def __init__(
        self, clock: Clock, *, backoff: Backoff | None = None, max_attempts: int = 8
    ) -> None:
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.rows: dict[int, FakeJobRow] = {}
        self.replays: list[tuple[str, list[int]]] = []

    async def enqueue(self, conn: object, job: NewJob) -> int | None:
        taken = {row.job.dedupe_key for row in self.rows.values()}
        if job.dedupe_key is not None and job.dedupe_key in taken:
            return None
        job_id = len(self.rows) + 1
        budget = job.max_attempts or self.max_attempts
        stored = Job(
            job_id, job.kind, dict(job.payload), 0, budget, job.dedupe_key, job.ordering_key
        )
        self.rows[job_id] = FakeJobRow(stored, PENDING, job.run_at or self.clock.now())
        return job_id

    async def enqueue_many(self, conn: object, new_jobs: Iterable[NewJob]) -> None:
        for job in new_jobs:
            await self.enqueue(conn, job)

    async def claim(
        self, conn: object, owner: str, limit: int, lease: float, *, kinds: Sequence[str] = ()
    ) -> list[Job]:
        now, held = self.clock.now(), set[str]()
        runnable = []
        for row in self.rows.values():  # in id order: an earlier job holds its ordering key
            key = row.job.ordering_key
            due = row.status is PENDING and row.run_at <= now and key not in held
            if due and (not kinds or row.job.kind in kinds):
                runnable.append(row)
            if key is not None and row.status in (PENDING, RUNNING):
                held.add(key)
        chosen = sorted(runnable, key=lambda row: (row.run_at, row.job.id))[:limit]
        for row in chosen:
            row.job = replace(row.job, attempts=row.job.attempts + 1)
            row.status, row.owner = RUNNING, owner
            row.lease_until = now + timedelta(seconds=lease)
        return sorted((row.job for row in chosen), key=lambda job: job.id)

    async def renew(self, conn: object, owner: str, ids: Sequence[int], lease: float) -> set[int]:
        held = {row.job.id for row in self._held(owner, ids)}
        for job_id in held:
            self.rows[job_id].lease_until = self.clock.now() + timedelta(seconds=lease)
        return held

    async def settle(self, conn: object, owner: str, outcomes: Sequence[Outcome]) -> Settled:
        counted = {DONE: 0, PENDING: 0, DEAD: 0}
        for outcome in sorted(outcomes, key=lambda o: not o.succeeded):  # successes first
            for row in self._held(owner, [outcome.job.id]):
                counted[self._finish(row, outcome.error)] += 1
        lost = len(outcomes) - sum(counted.values())
        return Settled(counted[DONE], counted[PENDING], counted[DEAD], lost)

    def _finish(self, row: FakeJobRow, error: BaseException | None) -> JobStatus:
        now, attempts = self.clock.now(), row.job.attempts
        row.owner = row.lease_until = None
        if error is None:
            row.status, row.last_error = DONE, None
            return DONE
        permanent = isinstance(error, PayLedgerError) and not error.retryable
        row.status = DEAD if permanent or attempts >= row.job.max_attempts else PENDING
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        delay = self.backoff.delay(attempts, retry_after) if row.status is PENDING else 0
        row.run_at = now + timedelta(seconds=delay)
        row.last_error = redact_card_numbers(f"{type(error).__name__}: {error}")[:2000]
        return row.status

    async def reclaim_expired(self, conn: object) -> int:
        now = self.clock.now()
        expired = [
            row
            for row in self.rows.values()
            if row.status is RUNNING and row.lease_until is not None and row.lease_until < now
        ]
        for row in expired:
            gave_up = row.job.attempts >= row.job.max_attempts
            row.status, row.run_at = (DEAD if gave_up else PENDING), now
            row.last_error = f"lease of {row.owner} expired (worker stopped or crashed)"
            row.owner = row.lease_until = None
        return len(expired)

    async def replay(
        self,
        *,
        actor: str,
        ids: Sequence[int] | None = None,
        kind: str | None = None,
        error_contains: str | None = None,
    ) -> int:
        dead = [
            row
            for row in self.rows.values()
            if row.status is DEAD
            and (ids is None or row.job.id in ids)
            and (not kind or row.job.kind == kind)
            and (not error_contains or error_contains in (row.last_error or ""))
        ]
        for row in dead:
            row.status, row.run_at = PENDING, self.clock.now()
            row.job = replace(row.job, attempts=0)
        if dead:
            self.replays.append((actor, [row.job.id for row in dead]))
        return len(dead)

    async def counts(self, conn: object) -> dict[JobStatus, int]:
        return {s: sum(row.status is s for row in self.rows.values()) for s in JobStatus}

    async def oldest_pending_age(self, conn: object) -> float:
        waiting = [row.run_at for row in self.rows.values() if row.status is PENDING]
        return max((self.clock.now() - min(waiting)).total_seconds(), 0.0) if waiting else 0.0

    def _held(self, owner: str, ids: Iterable[int]) -> list[FakeJobRow]:
        rows = (self.rows.get(job_id) for job_id in ids)
        return [row for row in rows if row and row.status is RUNNING and row.owner == owner]


__all__ = ["FakeJobRow", "FakeQueue"]
