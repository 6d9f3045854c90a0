"""The job queue's contract, as the worker, the inbox, the stores and the surfaces use it.

``engine.queue.Queue`` keeps jobs in SQL; ``tests.fakes_queue.FakeQueue`` in memory; the specs
in ``tests/contracts/test_queue_contract.py`` hold both to this contract. Methods that take
``conn`` act in the caller's transaction, so that a job is enqueued (or settled) together with
the rows that made it due.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.engine.jobs import Job, JobStatus, NewJob, Outcome

if TYPE_CHECKING:  # the result type lives with the implementation; no import at run time
    from payledger.engine.queue import Settled


class JobQueue(Protocol):
    """Durable jobs: each runs until it is done or dead, at most once at a time.

    A job is pending, running (leased to one owner until its lease ends), done or dead. A
    ``dedupe_key`` is taken for ever: a second job with it is ignored. Jobs sharing an
    ``ordering_key`` run one at a time, in enqueue order; a later one waits while an earlier
    one is pending or running.
    """

    async def enqueue(self, conn: AsyncConnection, job: NewJob) -> int | None:
        """Add ``job``, due at its ``run_at`` (else now); returns its id, or None when its
        dedupe key is already taken."""
        ...

    async def enqueue_many(self, conn: AsyncConnection, new_jobs: Iterable[NewJob]) -> None:
        """Add many jobs at once; those whose dedupe key is taken are skipped."""
        ...

    async def claim(
        self,
        conn: AsyncConnection,
        owner: str,
        limit: int,
        lease: float,
        *,
        kinds: Sequence[str] = (),
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs to ``owner`` for ``lease`` seconds.

        Args:
            kinds: when given, only jobs of these kinds (the worker claims its priority kinds
                first this way).

        Returns:
            The jobs, ordered by id; each picked oldest ``run_at`` first, never one whose
            ordering key an earlier pending or running job holds. Each counts an attempt.
        """
        ...

    async def renew(
        self, conn: AsyncConnection, owner: str, ids: Sequence[int], lease: float
    ) -> set[int]:
        """Extend for ``lease`` seconds the leases ``owner`` still holds on ``ids``; returns
        the ids it still held (the others went back to the queue)."""
        ...

    async def settle(
        self, conn: AsyncConnection, owner: str, outcomes: Sequence[Outcome]
    ) -> Settled:
        """Record how attempts ended. A success is done. A failure is dead when its error is a
        ``PayLedgerError`` that is not retryable or the job used its ``max_attempts``; else it
        is pending again after the backoff (at least the error's ``retry_after``). Outcomes of
        jobs ``owner`` no longer holds change nothing and are counted as lost."""
        ...

    async def reclaim_expired(self, conn: AsyncConnection) -> int:
        """Return running jobs whose lease has ended to the queue, due now (dead when they
        used their attempts); returns how many."""
        ...

    async def replay(
        self,
        *,
        actor: str,
        ids: Sequence[int] | None = None,
        kind: str | None = None,
        error_contains: str | None = None,
    ) -> int:
        """Make dead jobs (all, or those matching every filter given) pending and due now with
        a fresh retry budget, in a transaction of its own; ``actor`` is audited. Returns how
        many."""
        ...

    async def counts(self, conn: AsyncConnection) -> dict[JobStatus, int]:
        """Jobs per status, every status present."""
        ...

    async def oldest_pending_age(self, conn: AsyncConnection) -> float:
        """Seconds since the earliest ``run_at`` of a pending job (0 when none is due)."""
        ...


__all__ = ["JobQueue"]
