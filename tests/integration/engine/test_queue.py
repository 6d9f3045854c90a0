"""The job queue's contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import audit_log
from payledger.domain.errors import RateLimited, RejectedError
from payledger.engine.jobs import JobStatus, NewJob, Outcome
from payledger.engine.queue import Queue
from payledger.engine.retry import Backoff


@pytest.fixture
def queue(database, clock) -> Queue:
    return Queue(
        database, clock=clock, backoff=Backoff(base_seconds=10, cap_seconds=60), max_attempts=3
    )


async def enqueue(queue: Queue, *jobs: NewJob) -> list[int | None]:
    async with queue.database.transaction() as conn:
        return [await queue.enqueue(conn, job) for job in jobs]


async def claim(queue: Queue, owner: str = "w1", limit: int = 100, lease: float = 30):
    async with queue.database.transaction() as conn:
        return await queue.claim(conn, owner, limit, lease)


async def settle(queue: Queue, outcomes, owner: str = "w1"):
    async with queue.database.transaction() as conn:
        return await queue.settle(conn, owner, outcomes)


async def job_row(queue: Queue, job_id: int):
    async with queue.database.transaction() as conn:
        return await queue.get(conn, job_id)


async def test_a_dedupe_key_makes_enqueueing_idempotent(queue):
    first, second = await enqueue(
        queue, NewJob("post", dedupe_key="txn-1"), NewJob("post", dedupe_key="txn-1")
    )
    assert first is not None
    assert second is None
    async with queue.database.transaction() as conn:
        assert (await queue.counts(conn))[JobStatus.PENDING] == 1


async def test_claims_come_in_batches_in_enqueue_order_with_a_lease(queue, clock):
    async with queue.database.transaction() as conn:
        await queue.enqueue_many(conn, [NewJob("work", {"n": n}) for n in range(250)])
    first = await claim(queue, limit=100)
    second = await claim(queue, owner="w2", limit=100)
    assert [job.payload["n"] for job in first] == list(range(100))
    assert [job.payload["n"] for job in second] == list(range(100, 200))
    row = await job_row(queue, first[0].id)
    assert row["status"] == "running"
    assert row["lease_owner"] == "w1"
    assert row["attempts"] == 1
    assert (row["lease_until"] - clock.now()).total_seconds() == 30


async def test_a_job_is_not_claimed_before_its_run_at(queue, clock):
    from datetime import timedelta

    await enqueue(queue, NewJob("later", run_at=clock.now() + timedelta(minutes=5)))
    assert await claim(queue) == []
    clock.advance(minutes=5)
    assert [job.kind for job in await claim(queue)] == ["later"]


async def test_jobs_sharing_an_ordering_key_run_one_at_a_time_in_enqueue_order(queue):
    await enqueue(
        queue,
        NewJob("sale", ordering_key="txn-9"),
        NewJob("refund", ordering_key="txn-9"),
        NewJob("other", ordering_key="txn-7"),
    )
    batch = await claim(queue)
    assert sorted(job.kind for job in batch) == ["other", "sale"]
    assert await claim(queue) == []  # the refund waits for its sale
    await settle(queue, [Outcome(job) for job in batch])
    assert [job.kind for job in await claim(queue)] == ["refund"]


async def test_a_retrying_job_keeps_later_jobs_with_its_key_waiting(queue, clock):
    await enqueue(queue, NewJob("sale", ordering_key="k"), NewJob("refund", ordering_key="k"))
    [sale] = await claim(queue)
    await settle(queue, [Outcome(sale, RuntimeError("D365 timeout"))])
    assert await claim(queue) == []  # the sale is pending again (backing off); refund waits
    clock.advance(seconds=61)
    assert [job.kind for job in await claim(queue)] == ["sale"]


async def test_a_failed_attempt_is_retried_later_with_its_error_in_the_history(queue, clock):
    [job_id] = await enqueue(queue, NewJob("post"))
    [job] = await claim(queue)
    result = await settle(queue, [Outcome(job, RuntimeError("connection reset"))])
    assert result.retried == 1
    row = await job_row(queue, job_id)
    assert row["status"] == "pending"
    assert 0 <= (row["run_at"] - clock.now()).total_seconds() <= 10
    assert row["history"][0]["error"] == "RuntimeError: connection reset"
    assert row["lease_owner"] is None


async def test_retry_after_from_the_vendor_is_honoured(queue, clock):
    [job_id] = await enqueue(queue, NewJob("post"))
    [job] = await claim(queue)
    await settle(queue, [Outcome(job, RateLimited("429", retry_after=45))])
    row = await job_row(queue, job_id)
    assert (row["run_at"] - clock.now()).total_seconds() >= 45


async def test_a_non_retryable_error_sends_the_job_to_the_dead_letters_at_once(queue):
    [job_id] = await enqueue(queue, NewJob("post"))
    [job] = await claim(queue)
    result = await settle(queue, [Outcome(job, RejectedError("customer US-999 does not exist"))])
    assert result.dead == 1
    row = await job_row(queue, job_id)
    assert row["status"] == "dead"
    assert row["attempts"] == 1
    assert "US-999" in row["last_error"]


async def test_the_retry_budget_ends_in_the_dead_letters(queue, clock):
    [job_id] = await enqueue(queue, NewJob("post"))
    for _ in range(3):
        clock.advance(seconds=120)
        [job] = await claim(queue)
        await settle(queue, [Outcome(job, RuntimeError("still down"))])
    row = await job_row(queue, job_id)
    assert row["status"] == "dead"
    assert [entry["attempt"] for entry in row["history"]] == [1, 2, 3]


async def test_errors_are_stored_without_card_numbers(queue):
    [job_id] = await enqueue(queue, NewJob("post"))
    [job] = await claim(queue)
    await settle(queue, [Outcome(job, RuntimeError("bad card 4111111111111111"))])
    row = await job_row(queue, job_id)
    assert "4111111111111111" not in row["last_error"]
    assert "****1111" in row["last_error"]


async def test_an_outcome_from_a_worker_that_lost_its_lease_is_ignored(queue, clock):
    [job_id] = await enqueue(queue, NewJob("post"))
    [job] = await claim(queue, owner="w1", lease=10)
    clock.advance(seconds=11)
    async with queue.database.transaction() as conn:
        assert await queue.reclaim_expired(conn) == 1
    [again] = await claim(queue, owner="w2")
    assert again.id == job_id
    assert again.attempts == 2
    late = await settle(queue, [Outcome(job)], owner="w1")
    assert late.lost == 1
    assert (await job_row(queue, job_id))["status"] == "running"
    assert "expired" in (await job_row(queue, job_id))["history"][0]["error"]


async def test_renewing_a_lease_keeps_the_job_from_being_reclaimed(queue, clock):
    await enqueue(queue, NewJob("slow"))
    [job] = await claim(queue, lease=10)
    clock.advance(seconds=8)
    async with queue.database.transaction() as conn:
        assert await queue.renew(conn, "w1", [job.id], 10) == {job.id}
    clock.advance(seconds=8)
    async with queue.database.transaction() as conn:
        assert await queue.reclaim_expired(conn) == 0


async def test_a_job_that_keeps_killing_its_worker_ends_dead(queue, clock):
    [job_id] = await enqueue(queue, NewJob("poison"))
    for _ in range(3):
        await claim(queue, lease=5)
        clock.advance(seconds=6)
        async with queue.database.transaction() as conn:
            await queue.reclaim_expired(conn)
    assert (await job_row(queue, job_id))["status"] == "dead"


async def test_replay_returns_dead_jobs_with_a_fresh_budget_and_keeps_history(queue):
    ids = await enqueue(queue, NewJob("post"), NewJob("notify"))
    jobs = await claim(queue)
    await settle(queue, [Outcome(job, RejectedError(f"bad {job.kind}")) for job in jobs])
    replayed = await queue.replay(actor="ops@example.com", kind="post")
    assert replayed == 1
    row = await job_row(queue, ids[0])
    assert row["status"] == "pending"
    assert row["attempts"] == 0
    assert row["history"][0]["error"] == "RejectedError: bad post"
    assert row["history"][1]["by"] == "ops@example.com"
    assert (await job_row(queue, ids[1]))["status"] == "dead"
    async with queue.database.transaction() as conn:
        audit = (await conn.execute(select(audit_log))).one()
    assert audit.action == "jobs.replay"
    assert audit.actor == "ops@example.com"


async def test_replay_by_error_text_and_by_id(queue):
    ids = await enqueue(queue, NewJob("a"), NewJob("b"), NewJob("c"))
    jobs = await claim(queue)
    errors = [RejectedError("journal CustPay missing"), RejectedError("x"), RejectedError("y")]
    await settle(queue, [Outcome(j, e) for j, e in zip(jobs, errors, strict=True)])
    assert await queue.replay(actor="ops", error_contains="CustPay") == 1
    assert await queue.replay(actor="ops", ids=[ids[2]]) == 1
    assert (await job_row(queue, ids[1]))["status"] == "dead"
    assert await queue.replay(actor="ops") == 1  # everything left


async def test_concurrent_claimers_never_get_the_same_job(queue):
    async with queue.database.transaction() as conn:
        await queue.enqueue_many(conn, [NewJob("work") for _ in range(300)])
    batches = await asyncio.gather(*(claim(queue, owner=f"w{n}", limit=50) for n in range(8)))
    ids = [job.id for batch in batches for job in batch]
    assert len(ids) == len(set(ids)) == 300


def test_a_job_payload_must_be_json():
    from decimal import Decimal

    from payledger.domain.errors import DomainError

    with pytest.raises(DomainError, match="payload of job 'post' is not JSON"):
        NewJob("post", {"amount": Decimal("1.00")})
