"""The risk store and review queue on SQLite and PostgreSQL: assessments stored once and
gathered back into the windows the rules read; a hold opens one review per item; a decision
happens once, audited, and an approval enqueues each held event's job exactly once, under
concurrent approvals, a decision that dies half-way and a worker killed after the release."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import audit_log, inbox, jobs
from payledger.domain.clock import ManualClock
from payledger.domain.money import Money
from payledger.domain.risk import Action, Assessment, Reason, RiskSubject, SubjectKind
from payledger.engine.inbox import Inbox
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue
from payledger.flows.ports.risk import HeldKind, ReviewState
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.risk import SqlRiskStore
from payledger.stores.risk_reviews import SqlReviewQueue

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
HOLD = Assessment(0.93, Action.REVIEW, (Reason("velocity_card", "6 charges in 1 h", 0.6),))


def subject(txn: str, kind: SubjectKind = SubjectKind.SALE, **kw: Any) -> RiskSubject:
    values: dict[str, Any] = {
        "amount": Money.of(kw.pop("amount", "25.00")),
        "occurred_at": kw.pop("at", WHEN),
        "customer_id": "C-1",
        "card_token": "V-1",
        "billing_zip": "98101",
        "ip_address": "203.0.113.9",
        **kw,
    }
    return RiskSubject(txn, kind, **values)


@pytest.fixture
def queue(database: Database, clock: ManualClock) -> Queue:
    return Queue(database, clock=clock)


@pytest.fixture
def store(queue: Queue) -> SqlRiskStore:
    return SqlRiskStore(queue.database, SqlReviewQueue(queue))


async def event(queue: Queue, txn: str, state: str = "approved") -> int:
    async with queue.database.transaction() as conn:
        receipt = await Inbox(queue).accept(
            conn,
            source="paytrace",
            external_id=f"paytrace:{txn}:sale:{state}",
            payload={"gateway_txn_id": txn},
            job_kind=PROCESS_PAYMENT,
        )
    return receipt.inbox_id


async def released(database: Database) -> list[tuple[str, dict[str, Any]]]:
    async with database.transaction() as conn:
        rows = await conn.execute(
            select(jobs.c.kind, jobs.c.payload)
            .where(jobs.c.dedupe_key.startswith("risk-release:"))
            .order_by(jobs.c.id)
        )
        return [(row.kind, row.payload) for row in rows]


async def inbox_status(database: Database, inbox_id: int) -> str:
    async with database.transaction() as conn:
        return str(await conn.scalar(select(inbox.c.status).where(inbox.c.id == inbox_id)))


async def test_an_assessment_is_stored_once_and_read_back(store):
    assert await store.record(subject("T1"), HOLD, WHEN)
    assert not await store.record(subject("T1"), Assessment(0.1, Action.ALLOW), WHEN)
    assert await store.assessment("T1", SubjectKind.SALE) == HOLD
    assert await store.assessment("T1", SubjectKind.REFUND) is None
    assert await store.card_of("T1") == "V-1"
    assert await store.counts_by_action() == {"review": 1}


async def test_history_gathers_each_window_newest_first_and_the_customer_profile(store):
    allow = Assessment(0.1, Action.ALLOW)
    await store.record(subject("OLD", at=WHEN - timedelta(days=200)), allow, WHEN)
    await store.record(subject("T1", amount="10.00", at=WHEN - timedelta(hours=2)), allow, WHEN)
    await store.record(subject("T2", amount="30.00", at=WHEN - timedelta(hours=1)), allow, WHEN)
    other = subject("X1", customer_id="C-2", card_token="V-2", billing_zip="10001", ip_address="")
    await store.record(other, allow, WHEN)
    declined = subject("D1", SubjectKind.DECLINE, customer_id="C-3", at=WHEN - timedelta(minutes=1))
    await store.record(declined, allow, WHEN)
    await store.record(subject("I1", invoice_ref="INV-1", customer_id="C-4"), allow, WHEN)

    now = subject("NOW", invoice_ref="INV-1", at=WHEN + timedelta(minutes=1))
    history = await store.history(now, since=WHEN - timedelta(days=90))
    assert [s.transaction_id for s in history.by_customer] == ["T2", "T1"]
    assert [s.transaction_id for s in history.by_card] == ["I1", "D1", "T2", "T1"]
    assert {s.transaction_id for s in history.by_zip} == {"T2", "T1", "D1", "I1"}
    assert [s.transaction_id for s in history.declines] == ["D1"]
    assert [s.transaction_id for s in history.same_invoice] == ["I1"]
    profile = history.customer
    assert (profile.payments, profile.total, profile.largest) == (
        2,
        Money.of("40.00"),
        Money.of("30.00"),
    )
    assert profile.mean == Money.of("20.00")
    assert profile.first_seen == WHEN - timedelta(days=200)
    oldest_first = [s.transaction_id for s in await store.training_events(3)]
    assert oldest_first[0] == "D1" and set(oldest_first[1:]) == {"X1", "I1"}


async def test_a_burst_counts_declines_and_small_authorizations_in_its_window(store):
    allow = Assessment(0.1, Action.ALLOW)
    for n in range(3):
        await store.record(subject(f"D{n}", SubjectKind.DECLINE, amount="1.00"), allow, WHEN)
    await store.record(subject("A1", SubjectKind.AUTHORIZATION, amount="0.50"), allow, WHEN)
    await store.record(subject("A2", SubjectKind.AUTHORIZATION, amount="50.00"), allow, WHEN)
    old = subject("D9", SubjectKind.DECLINE, at=WHEN - timedelta(minutes=5))
    await store.record(old, allow, WHEN)
    burst = await store.burst(WHEN - timedelta(seconds=60), Money.of("2.00"))
    assert (burst.declines, burst.small_authorizations, burst.declined) == (3, 1, Money.of("3.00"))


async def test_a_hold_opens_one_review_and_marks_its_events_held(store, queue):
    first, second = await event(queue, "T1"), await event(queue, "T1", "settled")
    sale = subject("T1", amount="900.00")
    assert await store.hold_posting(sale, first, HOLD, open_review=True) is ReviewState.PENDING
    assert await store.hold_posting(sale, first, HOLD, open_review=True) is ReviewState.PENDING
    assert await store.hold_posting(sale, second, HOLD, open_review=False) is ReviewState.PENDING
    assert await store.hold_posting(subject("T2"), 99, HOLD, open_review=False) is None
    (item,) = await store.reviews.items()
    assert (item.kind, item.ref, item.amount, item.score) == (
        HeldKind.POSTING,
        "T1",
        Money.of("900.00"),
        0.93,
    )
    assert [r.code for r in item.reasons] == ["velocity_card"]
    assert [await inbox_status(queue.database, i) for i in (first, second)] == ["held", "held"]
    assert await released(queue.database) == []


async def test_approval_releases_each_held_event_once_and_is_audited(store, queue, clock):
    first, second = await event(queue, "T1"), await event(queue, "T1", "settled")
    for inbox_id in (first, second):
        await store.hold_posting(subject("T1"), inbox_id, HOLD, open_review=True)
    (item,) = await store.reviews.items()
    decided = await store.reviews.decide(
        item.id, approve=True, actor="ops@example.com", comment="known buyer", at=clock.now()
    )
    assert (decided.applied, decided.released, decided.item.state) == (
        True,
        2,
        ReviewState.APPROVED,
    )
    again = await store.reviews.decide(
        item.id, approve=False, actor="late@example.com", comment="", at=clock.now()
    )
    assert (again.applied, again.item.state, again.item.decided_by) == (
        False,
        ReviewState.APPROVED,
        "ops@example.com",
    )
    assert await released(queue.database) == [
        (PROCESS_PAYMENT, {"inbox_id": first}),
        (PROCESS_PAYMENT, {"inbox_id": second}),
    ]
    assert await store.hold_posting(subject("T1"), first, HOLD, open_review=True) is (
        ReviewState.APPROVED
    )
    assert await store.reviews.items() == []
    async with queue.database.transaction() as conn:
        audit = (await conn.execute(select(audit_log))).one()
    assert (audit.actor, audit.action, audit.detail["comment"]) == (
        "ops@example.com",
        "risk.approve",
        "known buyer",
    )
    assert "-T1-" in audit.subject  # on the payment's timeline


async def test_a_rejection_releases_nothing_and_marks_the_events_rejected(store, queue, clock):
    first = await event(queue, "T1")
    await store.hold_posting(subject("T1"), first, HOLD, open_review=True)
    (item,) = await store.reviews.items()
    await store.reviews.decide(item.id, approve=False, actor="ops", comment="fraud", at=clock.now())
    assert await released(queue.database) == []
    assert await inbox_status(queue.database, first) == "rejected"
    later = await event(queue, "T1", "settled")
    assert await store.hold_posting(subject("T1"), later, HOLD, open_review=True) is (
        ReviewState.REJECTED
    )
    assert await inbox_status(queue.database, later) == "rejected"


class DyingQueue(Queue):
    """Dies while enqueueing, as a process killed mid-decision would."""

    async def enqueue_many(self, conn: Any, new_jobs: Any) -> None:
        raise RuntimeError("killed")


async def test_a_decision_that_dies_half_way_leaves_the_item_pending(store, queue, clock):
    await store.hold_posting(subject("T1"), await event(queue, "T1"), HOLD, open_review=True)
    (item,) = await store.reviews.items()
    dying = SqlReviewQueue(DyingQueue(queue.database, clock=clock))
    with pytest.raises(RuntimeError, match="killed"):
        await dying.decide(item.id, approve=True, actor="ops", comment="", at=clock.now())
    assert [i.state for i in await store.reviews.items()] == [ReviewState.PENDING]
    assert await released(queue.database) == []
    decided = await store.reviews.decide(item.id, approve=True, actor="ops", comment="", at=WHEN)
    assert decided.released == 1
    assert len(await released(queue.database)) == 1


async def test_a_release_survives_a_killed_worker_and_runs_again_not_twice(store, queue, clock):
    await store.hold_posting(subject("T1"), await event(queue, "T1"), HOLD, open_review=True)
    (item,) = await store.reviews.items()
    async with queue.database.transaction() as conn:  # the original job, done meanwhile
        await conn.execute(jobs.delete().where(jobs.c.kind == PROCESS_PAYMENT))
    await store.reviews.decide(item.id, approve=True, actor="ops", comment="", at=clock.now())
    async with queue.database.transaction() as conn:
        (claimed,) = await queue.claim(conn, "worker-a", 10, 30.0)
    clock.advance(seconds=31)  # worker-a was killed: its lease runs out
    async with queue.database.transaction() as conn:
        assert await queue.reclaim_expired(conn) == 1
        (again,) = await queue.claim(conn, "worker-b", 10, 30.0)
        count = await conn.scalar(select(func.count()).select_from(jobs))
    assert (again.id, again.kind, again.payload) == (claimed.id, PROCESS_PAYMENT, claimed.payload)
    assert count == 1
    async with queue.database.transaction() as conn:  # an approval replayed: no new job
        await queue.enqueue(conn, NewJob(PROCESS_PAYMENT, {}, dedupe_key=claimed.dedupe_key))
        assert await conn.scalar(select(func.count()).select_from(jobs)) == 1


async def test_concurrent_approvals_release_once(database, database_url, clock):
    """Two processes (each its own connection pool) approve the same item at once."""
    databases = [Database(database_url) for _ in range(2)]
    try:
        queues = [Queue(db, clock=clock) for db in databases]
        store = SqlRiskStore(databases[0], SqlReviewQueue(queues[0]))
        for n in range(5):
            await store.hold_posting(
                subject(f"T{n}"), await event(queues[0], f"T{n}"), HOLD, open_review=True
            )
        items = await store.reviews.items()

        async def approve(q: Queue, item_id: int) -> bool:
            decided = await SqlReviewQueue(q).decide(
                item_id, approve=True, actor=f"ops-{id(q)}", comment="", at=WHEN
            )
            return decided.applied

        results = await asyncio.gather(*(approve(q, item.id) for item in items for q in queues))
        assert sum(results) == len(items)
        assert len(await released(databases[0])) == len(items)
        async with databases[0].transaction() as conn:
            audits = await conn.scalar(select(func.count()).select_from(audit_log))
        assert audits == len(items)
    finally:
        for db in databases:
            await db.dispose()
