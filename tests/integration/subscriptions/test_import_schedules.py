"""``subscriptions import`` against the PayTrace sandbox's recurrences, on SQLite and
PostgreSQL: each schedule becomes one subscription billed from its next run, taking over
deletes the recurrence only after the subscription is stored, an import cut off at any step
leaves at most one party charging and finishes when run again, and the charges PayTrace's
schedules still make pay the imported subscription's periods so payledger does not bill them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

import httpx
import pytest

from payledger.adapters.paytrace import PayTraceClient, PayTraceRecurrenceSpec, RetryPolicy
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.adapters.paytrace.recurrences import PayTraceSchedules
from payledger.domain.clock import ManualClock
from payledger.domain.errors import TransientError
from payledger.domain.subscriptions import Subscription
from payledger.domain.subscriptions_billing import EntryStatus, claim_due
from payledger.domain.subscriptions_periods import Interval, IntervalUnit
from payledger.flows.import_schedules import (
    ImportOutcome,
    ImportPorts,
    ImportSchedules,
    import_schedules,
)
from payledger.flows.ports import GatewaySchedule
from payledger.flows.recognise_schedule_charges import recognise_schedule_charge
from payledger.sandbox.paytrace import PayTraceSandbox, PayTraceSandboxSettings, create_app
from payledger.stores.subscription_imports import SqlImportedSubscriptions
from tests.fakes_customers import FakeCustomerDirectory
from tests.integration.paytrace.conftest import INTEGRATOR_ID, encrypted
from tests.unit.domain.subscription_builders import LA, local

START = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)  # 10:00 in Los Angeles
IMPORT = ImportSchedules(timezone=LA, actor="test")
TAKE_OVER = ImportSchedules(timezone=LA, take_over=True, actor="test")


@pytest.fixture
def sandbox_app():
    return create_app(PayTraceSandboxSettings(clock_start=START, seed=7))


@pytest.fixture
def sandbox(sandbox_app) -> PayTraceSandbox:
    return sandbox_app.state.sandbox


@pytest.fixture
async def paytrace(sandbox_app, sandbox) -> AsyncIterator[PayTraceClient]:
    async with PayTraceClient(
        "http://paytrace.test",
        "demo123",
        "demo123",
        INTEGRATOR_ID,
        transport=httpx.ASGITransport(app=sandbox_app),
        clock=sandbox.clock,
        retry=RetryPolicy(lookup_delay_s=0, read_attempts=1),
    ) as client:
        yield client


@pytest.fixture
def store(database) -> SqlImportedSubscriptions:
    return SqlImportedSubscriptions(database, ManualClock(START))


@pytest.fixture
def customers() -> FakeCustomerDirectory:
    return FakeCustomerDirectory(
        {"CustomerAccount": "US-001", "PayTraceCustomerId": "cust-a"},
        {"CustomerAccount": "US-002", "PayTraceCustomerId": "cust-b"},
    )


@pytest.fixture
def ports(paytrace, customers, store) -> ImportPorts:
    return ImportPorts(PayTraceSchedules(paytrace), customers, store)


async def a_recurrence(
    paytrace: PayTraceClient,
    customer: str,
    *,
    amount: str = "30.00",
    start: date = date(2026, 1, 31),
    frequency: str = "3",
    count: int = 999,
    kind: str = "sale",
) -> str:
    if not await paytrace.export_customers(customer_id=customer):
        assert (await paytrace.create_customer(customer, card=encrypted())).success
    spec = PayTraceRecurrenceSpec(
        amount=Decimal(amount),
        start_date=start,
        frequency=frequency,
        total_count=count,
        transaction_type=kind,
        description="Gold plan",
    )
    return str((await paytrace.create_recurrence(customer, spec)).id)


def active(sandbox: PayTraceSandbox, recurrence_id: str) -> bool:
    return sandbox.state.recurrences[int(recurrence_id)].active


def charges_of(sandbox: PayTraceSandbox, recurrence_id: str) -> list[int]:
    return list(sandbox.state.recurrences[int(recurrence_id)].transaction_ids)


def move_paytrace_clock(sandbox: PayTraceSandbox, to: datetime) -> None:
    sandbox.clock.advance_to(to)
    sandbox.catch_up()


async def claimable(store: SqlImportedSubscriptions, now: datetime) -> list[tuple[int, int]]:
    """What a billing run at ``now`` would claim: (subscription, period)."""
    claimed = await store.claim_due(
        now,
        limit=50,
        owner="test",
        lease=timedelta(minutes=10),
        plan=partial(claim_due, now=now, catch_up="all"),
    )
    return [(c.subscription.id, c.entry.period.index) for c in claimed]


async def test_a_monthly_schedule_becomes_a_subscription_billed_from_its_next_run(
    paytrace, sandbox, ports, store
):
    recurrence = await a_recurrence(paytrace, "cust-a")  # ran Jan 31 and Feb 28 already
    assert len(charges_of(sandbox, recurrence)) == 2

    report = await import_schedules(IMPORT, ports)

    [row] = report.rows
    assert row.outcome is ImportOutcome.IMPORTED, row.detail
    sub = await store.by_schedule(recurrence)
    assert sub is not None and sub.id == row.subscription_id
    assert (sub.customer_account, sub.vault_customer_id) == ("US-001", "cust-a")
    assert (sub.plan.amount.amount, sub.plan.description) == (Decimal("30.00"), "Gold plan")
    assert sub.schedule.anchor == date(2026, 1, 31)
    assert sub.schedule.interval == Interval(IntervalUnit.MONTH, 1)
    assert sub.schedule.max_periods is None  # 999: until stopped
    assert sub.schedule.period(sub.next_period).starts_on == date(2026, 3, 31)  # type: ignore[union-attr]
    assert sub.schedule.period(sub.next_period + 1).starts_on == date(2026, 4, 30)  # type: ignore[union-attr]
    assert sub.billed_by_gateway and sub.next_due() is None
    assert active(sandbox, recurrence)  # not taken over: PayTrace still bills it
    assert await claimable(store, local(date(2026, 4, 30), 1)) == []


async def test_frequencies_counts_and_what_cannot_be_imported(paytrace, sandbox, ports, store):
    twice_a_month = await a_recurrence(paytrace, "cust-a", frequency="7", start=date(2026, 4, 1))
    weekly = await a_recurrence(paytrace, "cust-b", frequency="5", count=10, start=date(2026, 4, 2))
    quarterly = await a_recurrence(paytrace, "cust-b", frequency="2", start=date(2026, 4, 2))
    unknown = await a_recurrence(paytrace, "cust-z", start=date(2026, 4, 2))
    auth = await a_recurrence(paytrace, "cust-a", kind="authorization", start=date(2026, 4, 2))
    stopped = await a_recurrence(paytrace, "cust-a", start=date(2026, 4, 2))
    await paytrace.delete_recurrence(int(stopped))

    report = await import_schedules(IMPORT, ports)

    rows = {row.schedule_id: row for row in report.rows}
    assert {r: rows[r].outcome for r in (twice_a_month, weekly, quarterly)} == dict.fromkeys(
        (twice_a_month, weekly, quarterly), ImportOutcome.IMPORTED
    )
    assert rows[unknown].outcome is ImportOutcome.SKIPPED
    assert rows[unknown].detail == "no ERP customer carries gateway customer 'cust-z'"
    assert rows[auth].outcome is ImportOutcome.SKIPPED and "sales only" in rows[auth].detail
    assert (
        rows[stopped].outcome is ImportOutcome.SKIPPED and "no longer runs" in rows[stopped].detail
    )
    firsts = await store.by_schedule(twice_a_month)
    assert firsts is not None and firsts.schedule.interval.rule == "0 0 1,15 * *"
    starts = [firsts.schedule.period(i).starts_on for i in range(3)]  # type: ignore[union-attr]
    assert starts == [date(2026, 4, 1), date(2026, 4, 15), date(2026, 5, 1)]
    ten = await store.by_schedule(weekly)
    assert ten is not None and ten.schedule.max_periods == 10
    assert ten.schedule.interval == Interval(IntervalUnit.WEEK, 1)
    every_three = await store.by_schedule(quarterly)
    assert every_three is not None and every_three.schedule.interval.every == 3
    assert (report.count(ImportOutcome.IMPORTED), report.count(ImportOutcome.SKIPPED)) == (3, 3)


async def test_importing_again_creates_nothing_and_a_dry_run_changes_nothing(
    paytrace, sandbox, ports, store
):
    recurrence = await a_recurrence(paytrace, "cust-a")

    dry = await import_schedules(ImportSchedules(timezone=LA, take_over=True, dry_run=True), ports)
    assert [r.outcome for r in dry.rows] == [ImportOutcome.TAKEN_OVER]
    assert "dry run" in dry.rows[0].detail
    assert await store.by_schedule(recurrence) is None and active(sandbox, recurrence)

    first = await import_schedules(IMPORT, ports)
    again = await import_schedules(IMPORT, ports)

    assert [r.outcome for r in again.rows] == [ImportOutcome.ALREADY]
    assert again.rows[0].subscription_id == first.rows[0].subscription_id
    assert await store.get(first.rows[0].subscription_id + 1) is None  # one subscription


async def test_taking_over_deletes_the_recurrence_after_the_subscription_is_stored(
    paytrace, sandbox, ports, store
):
    recurrence = await a_recurrence(paytrace, "cust-a")

    report = await import_schedules(TAKE_OVER, ports)

    [row] = report.rows
    assert row.outcome is ImportOutcome.TAKEN_OVER, row.detail
    assert not active(sandbox, recurrence)
    sub = await store.by_schedule(recurrence)
    assert sub is not None and not sub.billed_by_gateway
    assert sub.next_due() == local(date(2026, 3, 31))
    assert await claimable(store, local(date(2026, 3, 31), 1)) == [(sub.id, 2)]
    again = await import_schedules(TAKE_OVER, ports)
    assert [(r.outcome, r.detail) for r in again.rows] == [
        (ImportOutcome.ALREADY, "taken over before")
    ]


class StopFailsOnce:
    """PayTrace's schedules, whose delete is lost once (a crash before it was sent)."""

    def __init__(self, inner: PayTraceSchedules) -> None:
        self.inner, self.failed = inner, False

    async def schedules(self) -> list[GatewaySchedule]:
        return await self.inner.schedules()

    async def stop(self, schedule_id: str) -> GatewaySchedule | None:
        if not self.failed:
            self.failed = True
            raise TransientError("cut off", system="paytrace", operation="delete_recurrence")
        return await self.inner.stop(schedule_id)


class TakeOverFailsOnce(SqlImportedSubscriptions):
    """The store, cut off once after the recurrence was deleted and before the take-over."""

    failed = False

    async def take_over(
        self, subscription_id: int, *, next_period: int, actor: str
    ) -> Subscription:
        if not self.failed:
            self.failed = True
            raise TransientError("cut off", system="payledger", operation="take_over")
        return await super().take_over(subscription_id, next_period=next_period, actor=actor)


async def test_cut_off_before_the_delete_only_paytrace_charges_and_the_next_import_finishes(
    paytrace, sandbox, customers, store
):
    recurrence = await a_recurrence(paytrace, "cust-a")
    ports = ImportPorts(StopFailsOnce(PayTraceSchedules(paytrace)), customers, store)
    with pytest.raises(TransientError):
        await import_schedules(TAKE_OVER, ports)
    sub = await store.by_schedule(recurrence)
    assert sub is not None and sub.billed_by_gateway and active(sandbox, recurrence)

    move_paytrace_clock(sandbox, local(date(2026, 3, 31), 9))  # PayTrace runs Mar 31
    assert len(charges_of(sandbox, recurrence)) == 3
    assert await claimable(store, local(date(2026, 3, 31), 9)) == []  # payledger does not

    report = await import_schedules(TAKE_OVER, ports)

    assert [r.outcome for r in report.rows] == [ImportOutcome.TAKEN_OVER]
    taken = await store.by_schedule(recurrence)
    assert taken is not None and taken.id == sub.id and not taken.billed_by_gateway
    assert not active(sandbox, recurrence)
    assert taken.schedule.period(taken.next_period).starts_on == date(2026, 4, 30)  # type: ignore[union-attr]
    assert await claimable(store, local(date(2026, 4, 30), 1)) == [(sub.id, 3)]


async def test_cut_off_after_the_delete_nobody_charges_until_the_next_import_finishes(
    paytrace, sandbox, customers, database
):
    store = TakeOverFailsOnce(database, ManualClock(START))
    recurrence = await a_recurrence(paytrace, "cust-a")
    ports = ImportPorts(PayTraceSchedules(paytrace), customers, store)
    with pytest.raises(TransientError):
        await import_schedules(TAKE_OVER, ports)
    assert not active(sandbox, recurrence)
    sub = await store.by_schedule(recurrence)
    assert sub is not None and sub.billed_by_gateway
    assert await claimable(store, local(date(2026, 3, 31), 1)) == []

    report = await import_schedules(TAKE_OVER, ports)

    assert [r.outcome for r in report.rows] == [ImportOutcome.TAKEN_OVER]
    assert await claimable(store, local(date(2026, 3, 31), 1)) == [(sub.id, 2)]


async def test_a_charge_paytraces_schedule_still_makes_pays_the_imported_period(
    paytrace, sandbox, ports, store
):
    recurrence = await a_recurrence(paytrace, "cust-a")
    [row] = (await import_schedules(IMPORT, ports)).rows
    move_paytrace_clock(sandbox, local(date(2026, 3, 31), 9))
    [txn] = charges_of(sandbox, recurrence)[2:]
    [payment] = [
        p
        for p in await PayTraceGateway(paytrace).payments_on(date(2026, 3, 31))
        if p.gateway_txn_id == str(txn)
    ]
    assert payment.recurring

    assert await recognise_schedule_charge(payment, store) == (row.subscription_id, 2)
    assert await recognise_schedule_charge(payment, store) is None  # seen again: nothing new

    [entry] = await store.entries(row.subscription_id)
    assert (entry.period.index, entry.status, entry.gateway_txn_id) == (
        2,
        EntryStatus.GATEWAY_PAID,
        str(txn),
    )
    sub = await store.get(row.subscription_id)
    assert sub is not None and sub.next_period == 3

    # the switch: taken over now, payledger bills from April 30, never March 31 again
    taken = await import_schedules(TAKE_OVER, ports)
    assert [r.outcome for r in taken.rows] == [ImportOutcome.TAKEN_OVER]
    assert await claimable(store, local(date(2026, 3, 31), 23)) == []
    assert await claimable(store, local(date(2026, 4, 30), 1)) == [(row.subscription_id, 3)]
    assert len(charges_of(sandbox, recurrence)) == 3
