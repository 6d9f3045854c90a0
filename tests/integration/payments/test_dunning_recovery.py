"""Dunning end to end on both databases, through the real PayTrace sandbox: a subscription
period declined at PayTrace opens a case, the retry job (run with the clock moved to the
first retry) charges it again, and it is recovered with exactly one approved charge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from payledger.bootstrap import Container
from payledger.bootstrap.dunning import RETRY_DUNNING, retry_dunning_job
from payledger.config import DunningSettings, Settings
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import CaseStatus, DeclineClass
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus
from payledger.engine.jobs import Job
from payledger.sandbox.paytrace.records import TxnStatus
from payledger.stores.dunning import SqlDunning
from payledger.stores.subscriptions import SqlSubscriptions
from tests.fakes import FakeSubscriptionMirror
from tests.integration.payments.conftest import prepared
from tests.integration.payments.test_subscription_billing import Billing, a_subscription, run

LA = ZoneInfo("America/Los_Angeles")
START = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dunning": DunningSettings(enabled=True)})


@pytest.fixture
async def container(settings: Settings, stage) -> AsyncIterator[Container]:
    """The payments container, on a clock the test moves (and the PayTrace sandbox's with it)."""
    built = await prepared(settings, clock=ManualClock(START))
    yield built
    await built.aclose()


async def decline_next(stage, customer_id: str, text: str, times: int) -> None:
    async with httpx.AsyncClient(base_url=stage.paytrace_url) as control:
        reply = await control.put(
            f"/_sandbox/declines/customers/{customer_id}", json={"text": text, "times": times}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["customers"][customer_id] == {"text": text, "remaining": times}


async def collections_of(d365: httpx.AsyncClient, account: str) -> tuple[str, list[str]]:
    """The customer's collections status in D365 and the references of its collections notes."""
    state = "/_sandbox/state/{}"
    customers = (await d365.get(state.format("CustomersV3"), params={"company": "usmf"})).json()
    [customer] = [c for c in customers["value"] if c["CustomerAccount"] == account]
    notes = (await d365.get(state.format("CustomerCollectionsNotes"))).json()["value"]
    mine = [n["Reference"] for n in notes if n["CustomerAccount"] == account]
    return customer["PayTraceCollectionStatus"], sorted(mine)


def move_to(container: Container, stage, when: datetime) -> None:
    seconds = (when - container.clock.now()).total_seconds()
    container.clock.advance(seconds=seconds)  # type: ignore[attr-defined]
    stage.paytrace.clock.advance(seconds)


async def test_a_declined_period_is_retried_by_the_job_and_recovered_once(
    container, paytrace, d365, stage
):
    sub_id = await a_subscription(container, paytrace, "49.90", "dun-cust-1")
    await decline_next(stage, "dun-cust-1", "    NSF - Insufficient funds", 1)
    billing = Billing(d365)

    await run(billing.job(container))

    subscriptions = SqlSubscriptions(container.database, container.clock)
    [entry] = await subscriptions.entries(sub_id)
    assert entry.status is EntryStatus.DECLINED, entry.error
    store = SqlDunning(container.database, container.clock)
    case = await store.active_for_invoice(entry.invoice_number)
    assert case is not None and case.status is CaseStatus.RETRY_SCHEDULED
    assert case.attempts[0].decline_class is DeclineClass.SOFT
    assert case.subscription_id == sub_id and case.amount == entry.total
    assert case.next_attempt_at is not None
    past_due = f"payledger:dunning:{case.id}:past_due"
    assert await collections_of(d365, "US-003") == ("PastDue", [past_due])
    day_1 = case.next_attempt_at.astimezone(LA)
    assert day_1.time().hour == 10
    assert day_1.date() == START.astimezone(LA).date() + timedelta(days=1)

    mirror = FakeSubscriptionMirror()

    async def fake_mirror(_c: Container) -> FakeSubscriptionMirror:
        return mirror

    handler = retry_dunning_job(container, mirror=fake_mirror)
    await handler(Job(1, RETRY_DUNNING, {}, attempts=1, max_attempts=8))  # not due yet
    assert (await store.get(case.id)).status is CaseStatus.RETRY_SCHEDULED  # type: ignore[union-attr]

    move_to(container, stage, case.next_attempt_at + timedelta(minutes=1))
    await handler(Job(2, RETRY_DUNNING, {}, attempts=1, max_attempts=8))
    await handler(Job(3, RETRY_DUNNING, {}, attempts=1, max_attempts=8))  # nothing again

    recovered = await store.get(case.id)
    assert recovered is not None and recovered.status is CaseStatus.RECOVERED
    assert len(recovered.attempts) == 2
    charges = [
        t
        for t in stage.paytrace.state.transactions.values()
        if t.details.get("invoice_id") == entry.invoice_number
    ]
    assert sorted(t.status is TxnStatus.DECLINED for t in charges) == [False, True]
    [approved] = [t for t in charges if t.status is not TxnStatus.DECLINED]
    assert str(approved.transaction_id) == recovered.attempts[-1].gateway_txn_id
    assert (await subscriptions.get(sub_id)).status is SubscriptionStatus.ACTIVE  # type: ignore[union-attr]
    assert mirror.written == [("US-003", "active")]
    undone = f"payledger:dunning:{case.id}:undone"
    assert await collections_of(d365, "US-003") == ("", [past_due, undone])
