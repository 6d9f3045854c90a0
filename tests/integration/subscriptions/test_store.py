"""The subscription store on SQLite and PostgreSQL: what is stored comes back, versions guard
changes, and each due period is claimed by exactly one of several concurrent runs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import audit_log
from payledger.domain.clock import ManualClock
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus, claim_due
from payledger.domain.subscriptions_periods import BillingSchedule, Interval
from payledger.flows.ports import StaleSubscription
from payledger.stores.subscriptions import SqlSubscriptions
from tests.unit.domain.subscription_builders import LA, local, plan, subscription

DUE = local(date(2026, 1, 31), 0, 5)
LEASE = timedelta(minutes=10)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DUE)


@pytest.fixture
def store(database, clock) -> SqlSubscriptions:
    return SqlSubscriptions(database, clock)


def plan_at(now):
    return partial(claim_due, now=now, catch_up="all")


async def claim(store: SqlSubscriptions, owner: str = "run-1", limit: int = 100):
    now = store.clock.now()
    return await store.claim_due(now, limit=limit, owner=owner, lease=LEASE, plan=plan_at(now))


async def test_a_subscription_comes_back_as_it_was_stored(store):
    odd = subscription(
        id=0,
        plan=plan("1500", "Wartung", currency="JPY"),
        trial_end=date(2026, 2, 15),
        status=SubscriptionStatus.TRIALING,
        credit=Decimal("12"),
    )
    cron = subscription(id=0, max_periods=6)
    cron = replace(
        cron,
        schedule=BillingSchedule(
            date(2026, 1, 2), Interval(rule="0 0 1,15 * *"), LA, end_date=date(2027, 1, 1)
        ),
    )
    for given in (odd, cron):
        stored = await store.add(given, actor="test")
        assert stored.id > 0 and stored.version == 1 and stored.created_at == DUE
        assert await store.get(stored.id) == stored
        assert (stored.plan, stored.schedule, stored.trial_end, stored.credit) == (
            given.plan,
            given.schedule,
            given.trial_end,
            given.credit,
        )


async def test_a_change_from_an_old_version_is_refused_and_each_change_audited(store, database):
    stored = await store.add(subscription(id=0), actor="api:shop")
    paused, _ = await store.change(
        replace(stored, status=SubscriptionStatus.PAUSED),
        actor="console:ann",
        action="subscription.paused",
        detail={},
    )
    assert paused.version == 2 and paused.next_due() is None
    with pytest.raises(StaleSubscription):
        await store.change(stored, actor="api:shop", action="subscription.paused", detail={})
    async with database.transaction() as conn:
        rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    mine = [(r.actor, r.action, r.subject) for r in rows if r.subject.startswith("subscription")]
    assert mine == [
        ("api:shop", "subscription.created", f"subscription:{stored.id}"),
        ("console:ann", "subscription.paused", f"subscription:{stored.id}"),
    ]


async def test_a_due_period_is_claimed_once_leased_and_resumed_when_released(store, clock):
    stored = await store.add(subscription(id=0), actor="test")
    [claimed] = await claim(store)
    assert claimed.entry.invoice_key == f"SUB-{stored.id}-P0"
    assert claimed.entry.status is EntryStatus.PLANNED
    assert claimed.subscription.next_period == 1 and claimed.subscription.version == 2
    assert await claim(store, "run-2") == []  # leased to run-1

    await store.advance(claimed.entry.id, EntryStatus.INVOICED, invoice_number="FTI-1")
    assert await claim(store, "run-2") == []  # an unfinished entry keeps its lease
    await store.release(claimed.entry.id, "TransientError: down")
    [again] = await claim(store, "run-2")
    assert (again.entry.id, again.entry.status, again.entry.invoice_number) == (
        claimed.entry.id,
        EntryStatus.INVOICED,
        "FTI-1",
    )
    assert (again.entry.attempts, again.entry.error) == (1, "TransientError: down")


async def test_a_dead_runs_lease_lapses(store, clock):
    await store.add(subscription(id=0), actor="test")
    [claimed] = await claim(store, "dead")
    clock.advance(minutes=11)
    [resumed] = await claim(store, "alive")
    assert resumed.entry.id == claimed.entry.id


async def test_a_run_at_work_renews_its_lease_and_keeps_its_entries(store, clock):
    await store.add(subscription(id=0), actor="test")
    [claimed] = await claim(store, "slow")
    clock.advance(minutes=9)
    assert await store.renew("slow", clock.now() + LEASE) == 1
    assert await store.renew("someone-else", clock.now() + LEASE) == 0
    clock.advance(minutes=9)  # past the first lease, inside the renewed one
    assert await claim(store, "other") == []
    clock.advance(minutes=2)  # the renewed lease lapsed too: the run is gone
    [resumed] = await claim(store, "other")
    assert resumed.entry.id == claimed.entry.id


async def test_a_finished_entry_is_never_claimed_again(store, clock):
    await store.add(subscription(id=0), actor="test")
    [claimed] = await claim(store)
    await store.advance(claimed.entry.id, EntryStatus.CHARGED, gateway_txn_id="1001")
    clock.advance(minutes=30)
    assert await claim(store) == []
    [entry] = await store.entries(claimed.subscription.id)
    assert (entry.status, entry.gateway_txn_id) == (EntryStatus.CHARGED, "1001")


async def test_a_charge_is_started_once(store):
    await store.add(subscription(id=0), actor="test")
    [claimed] = await claim(store)
    assert await store.start_charge(claimed.entry.id) is False
    assert await store.start_charge(claimed.entry.id) is True


async def test_a_charge_outcome_does_not_undo_a_pause(store):
    stored = await store.add(subscription(id=0), actor="test")
    assert (
        await store.settle_status(stored.id, SubscriptionStatus.PAST_DUE, reason="x")
    ).status is SubscriptionStatus.PAST_DUE  # type: ignore[union-attr]
    current = await store.get(stored.id)
    await store.change(
        replace(current, status=SubscriptionStatus.PAUSED),
        actor="a",
        action="subscription.paused",
        detail={},
    )
    assert await store.settle_status(stored.id, SubscriptionStatus.ACTIVE, reason="x") is None
    assert (await store.get(stored.id)).status is SubscriptionStatus.PAUSED  # type: ignore[union-attr]


async def test_catch_up_latest_records_the_missed_periods_as_skipped(store, clock):
    stored = await store.add(subscription(id=0), actor="test")
    clock.advance(days=70)
    now = clock.now()
    [claimed] = await store.claim_due(
        now,
        limit=10,
        owner="r",
        lease=LEASE,
        plan=partial(claim_due, now=now, catch_up="latest"),
    )
    assert claimed.entry.period.index == 2
    entries = await store.entries(stored.id)
    assert [(e.period.index, e.status) for e in entries] == [
        (0, EntryStatus.SKIPPED),
        (1, EntryStatus.SKIPPED),
        (2, EntryStatus.PLANNED),
    ]


async def test_concurrent_runs_claim_each_due_period_exactly_once(database, database_url, clock):
    """Four runs, each with its own engine (as separate processes), claim 60 due subscriptions
    with three periods each in small rounds: every period is claimed by exactly one."""
    databases = [Database(database_url) for _ in range(4)]
    try:
        first = SqlSubscriptions(databases[0], clock)
        for _ in range(60):
            await first.add(subscription(id=0), actor="test")
        clock.advance(days=60)  # periods 0, 1 and 2 due

        async def run(index: int) -> list[tuple[int, int]]:
            store = SqlSubscriptions(databases[index], clock)
            taken = []
            while claimed := await claim(store, f"run-{index}", limit=7):
                for c in claimed:
                    taken.append((c.entry.subscription_id, c.entry.period.index))
                    await store.advance(c.entry.id, EntryStatus.CHARGED)
            return taken

        results = await asyncio.gather(*(run(i) for i in range(4)))
        claimed = [key for result in results for key in result]
        assert len(claimed) == len(set(claimed)) == 180
        assert sum(1 for result in results if result) > 1, [len(r) for r in results]
    finally:
        for db in databases:
            await db.dispose()
