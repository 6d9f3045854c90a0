"""The dunning store on SQLite and PostgreSQL: cases come back as stored, one per missed
charge, versions guard changes, and each attempt is claimed and made by exactly one of several
workers racing for it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import audit_log, dunning_attempts
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import (
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    DeclineClass,
    MissedCharge,
    open_case,
)
from payledger.domain.money import Money
from payledger.flows.dunning import DunningPorts, RetryDue, retry_due
from payledger.flows.ports import StaleCase
from payledger.stores.dunning import SqlDunning
from tests.fakes_charging import (
    FakeCardGateway,
    FakeReceivables,
)
from tests.integration.dunning.conftest import SCHEDULE, sql_dunning_ports

DECLINED = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)  # noon in Los Angeles
DAY_1 = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)  # 10:00 in Los Angeles
LEASE = timedelta(minutes=10)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECLINED)


@pytest.fixture
def store(database, clock) -> SqlDunning:
    return SqlDunning(database, clock)


def missed(key: str = "auto-pay:INV-1:900", invoice: str = "INV-1", **kw: object) -> MissedCharge:
    values: dict[str, object] = {
        "source": CaseSource.AUTO_PAY,
        "source_key": key,
        "invoice_number": invoice,
        "customer_account": "US-001",
        "vault_customer_id": "cust-1",
        "amount": Money.of("30.00"),
        "at": DECLINED,
        "outcome": AttemptOutcome.DECLINED,
        "reason": "Insufficient funds",
        "gateway_txn_id": "900",
    }
    values.update(kw)
    return MissedCharge(**values)  # type: ignore[arg-type]


async def opened(store: SqlDunning, cls: DeclineClass = DeclineClass.SOFT, **kw: object):
    case, created = await store.open(open_case(missed(**kw), cls, SCHEDULE), actor="test")
    assert created
    return case


async def test_a_case_comes_back_as_it_was_opened(store):
    case = await opened(store, subscription_id=12)

    assert await store.get(case.id) == case
    assert case.id > 0 and case.version == 1
    assert (case.status, case.next_attempt_at) == (CaseStatus.RETRY_SCHEDULED, DAY_1)
    assert case.amount == Money.of("30.00") and case.subscription_id == 12
    [first] = case.attempts
    assert (first.no, first.outcome, first.decline_class, first.gateway_txn_id) == (
        0,
        AttemptOutcome.DECLINED,
        DeclineClass.SOFT,
        "900",
    )
    assert await store.active_for_invoice("INV-1") == case
    assert await store.active_for_invoice("INV-2") is None


async def test_one_case_per_missed_charge(store):
    case = await opened(store)
    again, created = await store.open(open_case(missed(), DeclineClass.SOFT, SCHEDULE), actor="t")
    assert not created and again == case


async def test_a_change_from_an_old_version_is_refused(store):
    case = await opened(store)
    stopped = await store.change(
        replace(case, status=CaseStatus.STOPPED, next_attempt_at=None),
        actor="ops:ana",
        action="dunning.stopped",
        detail={"reason": "disputed"},
    )
    assert stopped.version == 2 and stopped.status is CaseStatus.STOPPED
    assert await store.active_for_invoice("INV-1") is None
    with pytest.raises(StaleCase):
        await store.change(case, actor="t", action="x", detail={})


async def test_changes_are_audited(store, database: Database):
    case = await opened(store)
    await store.change(
        replace(case, status=CaseStatus.STOPPED), actor="ops:ana", action="dunning.stopped",
        detail={"reason": "disputed"},
    )  # fmt: skip
    async with database.transaction() as conn:
        rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    mine = [(r.actor, r.action, r.subject) for r in rows if r.subject.startswith("dunning")]
    assert mine == [
        ("test", "dunning.opened", f"dunning_case:{case.id}"),
        ("ops:ana", "dunning.stopped", f"dunning_case:{case.id}"),
    ]
    assert rows[-1].detail["reason"] == "disputed"


async def test_a_due_attempt_is_claimed_once_and_resumed_after_its_lease(store, clock):
    case = await opened(store)
    assert (
        await store.claim_due(DAY_1 - timedelta(minutes=1), limit=5, owner="a", lease=LEASE) == []
    )

    [claimed] = await store.claim_due(DAY_1, limit=5, owner="a", lease=LEASE)
    assert (claimed.case.id, claimed.no, claimed.resumed) == (case.id, 1, False)
    assert await store.claim_due(DAY_1, limit=5, owner="b", lease=LEASE) == []
    assert await store.start_charge(claimed.attempt_id) is False
    assert await store.start_charge(claimed.attempt_id) is True

    later = DAY_1 + LEASE + timedelta(seconds=1)
    [resumed] = await store.claim_due(later, limit=5, owner="b", lease=LEASE)
    assert (resumed.attempt_id, resumed.no, resumed.resumed) == (claimed.attempt_id, 1, True)
    assert resumed.started_at == claimed.started_at


async def test_a_finished_attempt_ends_its_lease_and_counts_as_a_decline(store, clock):
    case = await opened(store)
    [claimed] = await store.claim_due(DAY_1, limit=5, owner="a", lease=LEASE)
    clock.advance(days=1)
    declined = replace(
        claimed.case.attempts[-1], outcome=AttemptOutcome.DECLINED, reason="NSF again"
    )
    stored = await store.change(
        replace(
            claimed.case,
            attempts=(*claimed.case.attempts[:-1], declined),
            next_attempt_at=DAY_1 + timedelta(days=2),
        ),
        actor="t",
        action="dunning.attempt_declined",
        detail={},
    )
    assert [a.outcome for a in stored.attempts] == [AttemptOutcome.DECLINED] * 2
    assert await store.claim_due(DAY_1 + LEASE * 2, limit=5, owner="b", lease=LEASE) == []
    assert await store.declines_since(DAY_1) == 1  # the retry; the first was before
    assert await store.declines_since(DECLINED - timedelta(hours=1)) == 2
    assert case.id == stored.id


async def test_a_hard_declined_case_is_never_due(store):
    await opened(store, DeclineClass.HARD)
    later = DECLINED + timedelta(days=30)
    assert await store.claim_due(later, limit=5, owner="a", lease=LEASE) == []


def ports_over(database: Database, clock: ManualClock, gateway: FakeCardGateway) -> DunningPorts:
    receivables = FakeReceivables()
    receivables.invoice_of("INV-1", "30.00")
    return sql_dunning_ports(database, clock, gateway, receivables)


async def test_two_workers_racing_for_the_same_attempt_charge_once(database_url, store, clock):
    case = await opened(store)
    clock.advance(seconds=(DAY_1 - DECLINED).total_seconds())
    gateway = FakeCardGateway()
    workers = [Database(database_url) for _ in range(4)]
    try:
        reports = await asyncio.gather(
            *(
                retry_due(RetryDue(owner=f"w{n}"), ports_over(db, clock, gateway))
                for n, db in enumerate(workers)
            )
        )
    finally:
        for db in workers:
            await db.dispose()

    assert len(gateway.calls) == 1
    assert sum(r.outcomes.get("approved", 0) for r in reports) == 1
    recovered = await store.get(case.id)
    assert recovered is not None and recovered.status is CaseStatus.RECOVERED
    async with store.database.transaction() as conn:
        rows = (await conn.execute(select(dunning_attempts.c.attempt_no))).scalars().all()
    assert sorted(rows) == [0, 1]
