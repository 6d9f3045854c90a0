"""The ``JobQueue`` port: ``FakeQueue`` behaves as the SQL ``Queue`` does, on SQLite and
PostgreSQL alike (dedupe, due time, ordering keys, claim order, leases, retries, replay)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from payledger.domain.clock import ManualClock
from payledger.domain.errors import RateLimited, RejectedError
from payledger.engine.jobs import Job, JobStatus, NewJob, Outcome
from payledger.engine.ports import JobQueue
from payledger.engine.queue import Queue, Settled
from payledger.engine.retry import Backoff
from tests.fakes_queue import FakeQueue

BACKOFF_CAP = 60.0
"""Seconds: no retry waits longer (unless the error asks for it)."""


@dataclass
class Subject:
    queue: JobQueue
    transaction: Callable[[], AbstractAsyncContextManager[Any]]

    async def enqueue(self, *jobs: NewJob) -> list[int | None]:
        async with self.transaction() as conn:
            return [await self.queue.enqueue(conn, job) for job in jobs]

    async def claim(
        self, owner: str = "w1", limit: int = 100, lease: float = 30, kinds: tuple[str, ...] = ()
    ) -> list[Job]:
        async with self.transaction() as conn:
            return await self.queue.claim(conn, owner, limit, lease, kinds=kinds)

    async def settle(self, *outcomes: Outcome, owner: str = "w1") -> Settled:
        async with self.transaction() as conn:
            return await self.queue.settle(conn, owner, outcomes)

    async def counts(self) -> dict[JobStatus, int]:
        async with self.transaction() as conn:
            return await self.queue.counts(conn)


@contextlib.asynccontextmanager
async def no_transaction() -> AsyncIterator[None]:
    yield None


def transient() -> Exception:
    """An error the queue does not know: retried, like any but a non-retryable one."""
    return RuntimeError("connection reset")


@pytest.fixture
def subject(backend: Queue | None, clock: ManualClock) -> Subject:
    backoff = Backoff(base_seconds=10, cap_seconds=BACKOFF_CAP)
    if backend is None:
        return Subject(FakeQueue(clock, backoff=backoff, max_attempts=3), no_transaction)
    queue = Queue(backend.database, clock=clock, backoff=backoff, max_attempts=3)
    return Subject(queue, queue.database.transaction)


async def test_a_dedupe_key_is_taken_for_ever(subject: Subject) -> None:
    first, again, other = await subject.enqueue(
        NewJob("post", dedupe_key="txn-1"),
        NewJob("post", {"n": 2}, dedupe_key="txn-1"),
        NewJob("post", dedupe_key="txn-2"),
    )
    assert first is not None and other is not None and again is None
    [job, _] = await subject.claim()
    await subject.settle(Outcome(job))
    assert await subject.enqueue(NewJob("post", dedupe_key="txn-1")) == [None]
    async with subject.transaction() as conn:
        await subject.queue.enqueue_many(
            conn, [NewJob("post", dedupe_key=key) for key in ("txn-2", "txn-3", "txn-3")]
        )
    assert await subject.counts() == {
        JobStatus.PENDING: 1,  # txn-3, once
        JobStatus.RUNNING: 1,  # txn-2, claimed above
        JobStatus.DONE: 1,
        JobStatus.DEAD: 0,
    }


async def test_a_job_is_claimed_only_once_due(subject: Subject, clock: ManualClock) -> None:
    await subject.enqueue(NewJob("later", run_at=clock.now() + timedelta(minutes=5)))
    assert await subject.claim() == []
    async with subject.transaction() as conn:
        assert await subject.queue.oldest_pending_age(conn) == 0
    clock.advance(minutes=7)
    async with subject.transaction() as conn:
        assert await subject.queue.oldest_pending_age(conn) == 120
    assert [job.kind for job in await subject.claim()] == ["later"]


async def test_claims_take_the_oldest_due_first_in_batches_with_an_attempt_counted(
    subject: Subject, clock: ManualClock
) -> None:
    earlier = clock.now() - timedelta(minutes=1)
    await subject.enqueue(NewJob("work", {"n": 0}), NewJob("work", {"n": 1}, run_at=earlier))
    async with subject.transaction() as conn:
        await subject.queue.enqueue_many(conn, [NewJob("work", {"n": n}) for n in range(2, 6)])
    [oldest] = await subject.claim(limit=1)
    second = await subject.claim(owner="w2", limit=3)
    third = await subject.claim(limit=3)
    assert oldest.payload["n"] == 1  # due first, though enqueued second
    assert [job.payload["n"] for job in second] == [0, 2, 3]
    assert [job.payload["n"] for job in third] == [4, 5]
    assert {(job.attempts, job.max_attempts) for job in [oldest, *second, *third]} == {(1, 3)}
    assert await subject.claim() == []


async def test_a_claim_by_kinds_takes_only_those_kinds(subject: Subject) -> None:
    await subject.enqueue(NewJob("process"), NewJob("flush"), NewJob("process"))
    assert [job.kind for job in await subject.claim(kinds=("flush",))] == ["flush"]
    assert [job.kind for job in await subject.claim()] == ["process", "process"]


async def test_jobs_sharing_an_ordering_key_run_one_at_a_time_in_enqueue_order(
    subject: Subject, clock: ManualClock
) -> None:
    await subject.enqueue(
        NewJob("sale", ordering_key="txn-9"),
        NewJob("refund", ordering_key="txn-9"),
        NewJob("other", ordering_key="txn-7"),
    )
    batch = await subject.claim()
    assert sorted(job.kind for job in batch) == ["other", "sale"]
    assert await subject.claim() == []  # the refund waits for its sale
    sale = next(job for job in batch if job.kind == "sale")
    await subject.settle(Outcome(sale, RuntimeError("D365 timeout")))
    assert await subject.claim() == []  # the sale is pending again (backing off): still waits
    clock.advance(seconds=BACKOFF_CAP + 1)
    [retried] = await subject.claim()
    assert (retried.kind, retried.attempts) == ("sale", 2)
    await subject.settle(Outcome(retried))
    assert [job.kind for job in await subject.claim()] == ["refund"]


async def test_a_completed_job_is_done_and_not_claimed_again(subject: Subject) -> None:
    await subject.enqueue(NewJob("post"), NewJob("post"))
    first, second = await subject.claim()
    assert await subject.settle(Outcome(first), Outcome(second, transient())) == Settled(
        completed=1, retried=1
    )
    assert (await subject.counts())[JobStatus.DONE] == 1
    assert await subject.settle(Outcome(first)) == Settled(lost=1)  # no longer held
    assert (await subject.counts())[JobStatus.DONE] == 1


async def test_a_failure_is_retried_after_a_backoff_until_the_budget_ends_in_dead(
    subject: Subject, clock: ManualClock
) -> None:
    await subject.enqueue(NewJob("post"))
    for attempt in (1, 2):
        [job] = await subject.claim()
        assert job.attempts == attempt
        assert await subject.settle(Outcome(job, transient())) == Settled(retried=1)
        assert (await subject.counts())[JobStatus.PENDING] == 1
        clock.advance(seconds=BACKOFF_CAP + 1)
    [job] = await subject.claim()
    assert job.attempts == 3
    assert await subject.settle(Outcome(job, transient())) == Settled(dead=1)
    clock.advance(hours=1)
    assert await subject.claim() == []
    assert (await subject.counts())[JobStatus.DEAD] == 1


async def test_a_retry_waits_at_least_the_retry_after_the_vendor_asked_for(
    subject: Subject, clock: ManualClock
) -> None:
    await subject.enqueue(NewJob("post"))
    [job] = await subject.claim()
    await subject.settle(Outcome(job, RateLimited("429", retry_after=BACKOFF_CAP * 2)))
    clock.advance(seconds=BACKOFF_CAP + 1)
    assert await subject.claim() == []
    clock.advance(seconds=BACKOFF_CAP)
    assert len(await subject.claim()) == 1


async def test_a_non_retryable_error_is_dead_at_once(subject: Subject) -> None:
    await subject.enqueue(NewJob("post"))
    [job] = await subject.claim()
    refused = RejectedError("customer US-999 does not exist")
    assert await subject.settle(Outcome(job, refused)) == Settled(dead=1)
    assert (await subject.counts())[JobStatus.DEAD] == 1


async def test_an_expired_lease_makes_the_job_claimable_again(
    subject: Subject, clock: ManualClock
) -> None:
    await subject.enqueue(NewJob("post"))
    [job] = await subject.claim(owner="w1", lease=30)
    clock.advance(seconds=20)
    async with subject.transaction() as conn:
        assert await subject.queue.renew(conn, "w1", [job.id], 30) == {job.id}
        assert await subject.queue.renew(conn, "w2", [job.id], 30) == set()
    clock.advance(seconds=20)  # within the renewed lease
    async with subject.transaction() as conn:
        assert await subject.queue.reclaim_expired(conn) == 0
    clock.advance(seconds=11)
    async with subject.transaction() as conn:
        assert await subject.queue.reclaim_expired(conn) == 1
        assert await subject.queue.renew(conn, "w1", [job.id], 30) == set()
    [again] = await subject.claim(owner="w2")
    assert (again.id, again.attempts) == (job.id, 2)
    assert await subject.settle(Outcome(job), owner="w1") == Settled(lost=1)
    assert await subject.settle(Outcome(again), owner="w2") == Settled(completed=1)


async def test_an_expired_lease_on_the_last_attempt_is_dead(
    subject: Subject, clock: ManualClock
) -> None:
    await subject.enqueue(NewJob("post", max_attempts=1))
    await subject.claim(lease=30)
    clock.advance(seconds=31)
    async with subject.transaction() as conn:
        assert await subject.queue.reclaim_expired(conn) == 1
    assert await subject.claim() == []
    assert (await subject.counts())[JobStatus.DEAD] == 1


async def test_a_replayed_dead_job_runs_again_with_a_fresh_budget(subject: Subject) -> None:
    await subject.enqueue(NewJob("post"), NewJob("post"), NewJob("sync"))
    post, other_post, sync = await subject.claim()
    await subject.settle(
        Outcome(post, RejectedError("customer US-999 does not exist")),
        Outcome(other_post, RejectedError("account 1101 is closed")),
        Outcome(sync, RejectedError("customer US-999 does not exist")),
    )
    assert await subject.queue.replay(actor="ops", ids=[]) == 0  # nothing chosen, nothing replayed
    assert await subject.queue.replay(actor="ops", ids=[post.id]) == 1
    [replayed] = await subject.claim()
    assert (replayed.id, replayed.attempts) == (post.id, 1)
    assert await subject.queue.replay(actor="ops", ids=[replayed.id]) == 0  # not dead
    assert await subject.queue.replay(actor="ops", kind="post", error_contains="US-999") == 0
    assert await subject.queue.replay(actor="ops", error_contains="US-999") == 1
    assert await subject.queue.replay(actor="ops") == 1
    assert sorted(job.id for job in await subject.claim()) == [other_post.id, sync.id]
    assert (await subject.counts())[JobStatus.DEAD] == 0
