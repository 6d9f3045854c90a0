"""Dunning with fakes: a missed charge opens one case, soft declines are retried on days 1, 3,
5 and 7 once each, hard ones wait for a card update, and each step tells the customer and the
ERP; operators stop cases or mark them paid elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from payledger.config import DEFAULT_HARD_DECLINES, DEFAULT_SOFT_DECLINES
from payledger.domain.charges import CardOnFile
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import (
    AttemptOutcome,
    CaseClosed,
    CaseSource,
    CaseStatus,
    DeclineClass,
    DeclineTable,
    MissedCharge,
    NoticeKind,
)
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.domain.errors import TransientError
from payledger.domain.model import Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.money import Money
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import BillingEntry, ChargeLine, EntryStatus
from payledger.domain.subscriptions_periods import Period
from payledger.flows.auto_pay import AutoPayOutcome, InvoicePosted, pay_posted_invoice
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.dunning import (
    BURST_ALERT,
    FOLLOWUP_ALERT,
    CaseOpener,
    DunningParts,
    DunningPolicy,
    DunningPorts,
    RetryDue,
    SubscriptionDunning,
    card_updated,
    mark_paid_elsewhere,
    open_dunning_case,
    retry_case_now,
    retry_due,
    stop_case,
)
from payledger.flows.ports import ClaimedEntry
from tests.fakes import (
    FakeCollectionsErp,
    FakeDunningNotices,
    FakeDunningStore,
    FakeSubscriptionMirror,
    FakeSubscriptionStore,
)
from tests.fakes_charging import (
    FakeCardGateway,
    FakeChargeAttempts,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)
from tests.fakes_orders import FakeAlerts
from tests.unit.domain.subscription_builders import subscription

LA = ZoneInfo("America/Los_Angeles")
DECLINED_ON = date(2026, 5, 4)
RUN = RetryDue(max_per_run=50, owner="t")
NSF = "Insufficient funds"
EXPIRED = "Expired card"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``hour`` local time on day ``day`` after the first decline."""
    local = datetime.combine(DECLINED_ON + timedelta(days=day), time(hour, minute), tzinfo=LA)
    return local.astimezone(UTC)


class Dunning:
    """Dunning's ports, all fakes; invoice INV-1 (30.00) is open in the ERP."""

    def __init__(self, *, burst_per_hour: int = 0) -> None:
        self.clock = ManualClock(at(0, 12))
        self.store = FakeDunningStore(self.clock)
        self.notices = FakeDunningNotices()
        self.erp = FakeCollectionsErp()
        self.alerts = FakeAlerts()
        self.receivables = FakeReceivables()
        self.receivables.invoice_of("INV-1", "30.00")
        self.gateway = FakeCardGateway()
        self.records = FakeChargeRecords()
        self.subscriptions = FakeSubscriptionStore(self.clock)
        self.mirror = FakeSubscriptionMirror()
        self.policy = DunningPolicy(
            DeclineTable(tuple(DEFAULT_HARD_DECLINES), tuple(DEFAULT_SOFT_DECLINES)),
            RetrySchedule((1, 3, 5, 7), time(10, 0), "America/Los_Angeles"),
            burst_per_hour,
        )

    async def _charging(self) -> ChargeContext:
        return ChargeContext(
            self.gateway, self.receivables, self.records, self.clock.now(),
            charge_requests(self.receivables),
        )  # fmt: skip

    def ports(self) -> DunningPorts:
        return DunningPorts(
            store=self.store,
            parts=DunningParts(self.notices, self.erp),
            alerts=self.alerts,
            clock=self.clock,
            policy=self.policy,
            charging=self._charging,
            subscriptions=self.subscriptions,
            mirror=self.mirror,
        )

    async def missed(self, reason: str = NSF, **kw: object):
        values: dict[str, object] = {
            "source": CaseSource.AUTO_PAY,
            "source_key": "auto-pay:INV-1:900",
            "invoice_number": "INV-1",
            "customer_account": "US-001",
            "vault_customer_id": "cust-1",
            "amount": Money.of("30.00"),
            "at": self.clock.now(),
            "outcome": AttemptOutcome.DECLINED,
            "reason": f"Declined by the card issuer. {reason}.",
            "gateway_txn_id": "900",
        }
        values.update(kw)
        return await open_dunning_case(MissedCharge(**values), self.ports())  # type: ignore[arg-type]

    def move_to(self, when: datetime) -> None:
        self.clock.advance(seconds=(when - self.clock.now()).total_seconds())

    async def tick_hourly(self, days: int) -> None:
        """The retry job, run every hour for ``days`` days."""
        for _ in range(days * 24):
            self.clock.advance(hours=1)
            await retry_due(RUN, self.ports())

    def charged_on(self) -> list[datetime]:
        return [a.at.astimezone(LA) for a in self.store.cases[1].attempts[1:]]

    def sent(self) -> list[NoticeKind]:
        return [notice for _case, notice in self.notices.sent]


@pytest.fixture
def dunning() -> Dunning:
    return Dunning()


async def test_a_soft_decline_is_retried_on_days_1_3_5_7_then_exhausted(dunning):
    dunning.gateway.decline_next = [NSF] * 4
    case = await dunning.missed()
    assert (case.status, case.next_attempt_at) == (CaseStatus.RETRY_SCHEDULED, at(1, 10))

    await dunning.tick_hourly(days=10)

    case = dunning.store.cases[1]
    assert case.status is CaseStatus.EXHAUSTED
    assert len(dunning.gateway.calls) == 4
    assert [(d.date(), d.time()) for d in dunning.charged_on()] == [
        (DECLINED_ON + timedelta(days=n), time(10, 0)) for n in (1, 3, 5, 7)
    ]
    assert [a.outcome for a in case.attempts] == [AttemptOutcome.DECLINED] * 5
    assert dunning.sent() == [
        NoticeKind.PAYMENT_FAILED,
        NoticeKind.RETRY_SCHEDULED,
        NoticeKind.RETRY_SCHEDULED,
        NoticeKind.RETRY_SCHEDULED,
        NoticeKind.FINAL_NOTICE,
    ]
    assert dunning.erp.steps == [(1, "past_due"), (1, "final_attempt_failed")]


async def test_recovered_on_the_second_retry_tells_the_customer_and_undoes_the_erp(dunning):
    sub = await dunning.subscriptions.add(
        subscription(id=0, status=SubscriptionStatus.PAST_DUE), actor="test"
    )
    dunning.gateway.decline_next = [NSF]
    await dunning.missed(source=CaseSource.SUBSCRIPTION, subscription_id=sub.id)

    await dunning.tick_hourly(days=10)

    case = dunning.store.cases[1]
    assert case.status is CaseStatus.RECOVERED and case.next_attempt_at is None
    assert [a.outcome for a in case.attempts] == [
        AttemptOutcome.DECLINED,
        AttemptOutcome.DECLINED,
        AttemptOutcome.APPROVED,
    ]
    assert [d.date() for d in dunning.charged_on()] == [
        DECLINED_ON + timedelta(days=1),
        DECLINED_ON + timedelta(days=3),
    ]
    assert dunning.sent() == [
        NoticeKind.PAYMENT_FAILED,
        NoticeKind.RETRY_SCHEDULED,
        NoticeKind.RECOVERED,
    ]
    assert dunning.erp.steps == [(1, "past_due"), (1, "undo")]
    approved = dunning.records.records[case.attempts[-1].gateway_txn_id]
    assert approved.client == "dunning" and approved.invoice_number == "INV-1"
    assert dunning.subscriptions.subscriptions[sub.id].status is SubscriptionStatus.ACTIVE
    assert dunning.mirror.written == [("US-001", "active")]


async def test_a_hard_decline_is_not_retried_until_the_card_is_updated(dunning):
    case = await dunning.missed(EXPIRED)
    assert case.status is CaseStatus.OPEN and case.next_attempt_at is None
    assert case.attempts[0].decline_class is DeclineClass.HARD

    await dunning.tick_hourly(days=9)
    assert dunning.gateway.calls == []

    updated = await card_updated(case.id, dunning.ports(), RUN)

    assert updated.status is CaseStatus.RECOVERED
    assert len(dunning.gateway.calls) == 1
    assert ("customer", "dunning.card_updated", case.id) in dunning.store.audit
    assert dunning.sent() == [NoticeKind.PAYMENT_FAILED, NoticeKind.RECOVERED]


async def test_a_hard_decline_on_a_retry_waits_for_a_card_too(dunning):
    dunning.gateway.decline_next = ["Lost card"]
    await dunning.missed()

    await dunning.tick_hourly(days=10)

    case = dunning.store.cases[1]
    assert case.status is CaseStatus.OPEN and len(dunning.gateway.calls) == 1
    assert dunning.sent() == [NoticeKind.PAYMENT_FAILED, NoticeKind.PAYMENT_FAILED]


async def test_an_operator_stops_a_case_and_no_retry_follows(dunning):
    case = await dunning.missed()

    stopped = await stop_case(case.id, dunning.ports(), actor="ops:ana", reason="disputed")
    await dunning.tick_hourly(days=9)

    assert stopped.status is CaseStatus.STOPPED and stopped.reason == "disputed"
    assert dunning.gateway.calls == []
    assert ("ops:ana", "dunning.stopped", case.id) in dunning.store.audit
    assert dunning.erp.steps == [(1, "past_due")]  # the ERP is left as it is
    with pytest.raises(CaseClosed):
        await retry_case_now(case.id, dunning.ports(), RUN, actor="ops:ana")


async def test_marked_paid_elsewhere_undoes_the_erp_and_ends_the_case(dunning):
    case = await dunning.missed()

    paid = await mark_paid_elsewhere(case.id, dunning.ports(), actor="ops:ana", reason="wire")
    await dunning.tick_hourly(days=9)

    assert paid.status is CaseStatus.PAID_ELSEWHERE and dunning.gateway.calls == []
    assert dunning.erp.steps == [(1, "past_due"), (1, "undo")]
    assert ("ops:ana", "dunning.paid_elsewhere", case.id) in dunning.store.audit


async def test_an_operator_retry_now_charges_at_once_even_on_the_decline_day(dunning):
    case = await dunning.missed()

    retried = await retry_case_now(case.id, dunning.ports(), RUN, actor="ops:ana")

    assert retried.status is CaseStatus.RECOVERED and len(dunning.gateway.calls) == 1
    assert ("ops:ana", "dunning.retry_now", case.id) in dunning.store.audit


async def test_a_retry_cut_off_after_the_gateway_charged_is_found_not_charged_again(dunning):
    await dunning.missed()
    dunning.move_to(at(1, 10))
    [claimed] = await dunning.store.claim_due(
        dunning.clock.now(), limit=1, owner="dead-worker", lease=timedelta(minutes=10)
    )
    assert await dunning.store.start_charge(claimed.attempt_id) is False
    dunning.gateway.lost_charges.append(  # the dead worker's charge went through
        Payment(
            "777", PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("30.00"),
            dunning.clock.now(), outcome=Outcome.APPROVED, message="Approved.",
            invoice_ref="INV-1",
        )
    )  # fmt: skip

    dunning.clock.advance(minutes=11)  # its lease lapses
    report = await retry_due(RUN, dunning.ports())

    assert report.outcomes == {"approved": 1}
    assert dunning.gateway.calls == []
    case = dunning.store.cases[1]
    assert case.status is CaseStatus.RECOVERED
    assert case.attempts[-1].gateway_txn_id == "777" and len(case.attempts) == 2
    assert "777" in dunning.records.records  # recorded for the ledger


async def test_an_attempt_held_by_a_live_worker_is_left_alone(dunning):
    await dunning.missed()
    dunning.move_to(at(1, 10))
    await dunning.store.claim_due(
        dunning.clock.now(), limit=1, owner="busy-worker", lease=timedelta(minutes=10)
    )

    report = await retry_due(RUN, dunning.ports())

    assert report.outcomes == {} and dunning.gateway.calls == []


async def test_a_gateway_outage_leaves_the_attempt_to_the_next_run(dunning):
    await dunning.missed()
    dunning.move_to(at(1, 10))
    dunning.gateway = FakeCardGateway(fail_next=[TransientError("down", system="fake")])

    report = await retry_due(RUN, dunning.ports())
    assert report.outcomes == {"waiting": 1} and report.stopped
    assert dunning.store.cases[1].status is CaseStatus.RETRY_SCHEDULED

    dunning.clock.advance(minutes=15)
    report = await retry_due(RUN, dunning.ports())
    assert report.outcomes == {"approved": 1}
    assert len(dunning.store.cases[1].attempts) == 2  # the same attempt, resumed


async def test_an_invoice_with_nothing_open_any_more_closes_as_paid_elsewhere(dunning):
    await dunning.missed()
    dunning.receivables.invoice_of("INV-1", "30.00", paid_in_ledger={"wire": Money.of("30.00")})
    dunning.move_to(at(1, 10))

    await retry_due(RUN, dunning.ports())

    case = dunning.store.cases[1]
    assert case.status is CaseStatus.PAID_ELSEWHERE and dunning.gateway.calls == []
    assert case.attempts[-1].outcome is AttemptOutcome.NOTHING_OPEN
    assert dunning.erp.steps[-1] == (1, "undo")


async def test_a_missed_charge_opens_one_case_however_often_it_is_reported(dunning):
    first = await dunning.missed()
    again = await dunning.missed()
    other = await dunning.missed(source_key="api:901", gateway_txn_id="901")

    assert first.id == again.id == other.id == 1
    assert len(dunning.store.cases) == 1
    assert dunning.sent() == [NoticeKind.PAYMENT_FAILED]


async def test_a_burst_of_declines_alerts_the_operators():
    dunning = Dunning(burst_per_hour=2)
    for n in range(3):
        dunning.receivables.invoice_of(f"INV-{n + 10}", "30.00")
        await dunning.missed(source_key=f"k{n}", invoice_number=f"INV-{n + 10}")

    assert dunning.alerts.keys() == [BURST_ALERT]
    assert dunning.alerts.sent[0][4]["declines"] == 3


async def test_declines_spread_over_hours_raise_no_alert():
    dunning = Dunning(burst_per_hour=2)
    for n in range(3):
        await dunning.missed(source_key=f"k{n}", invoice_number=f"INV-{n + 10}")
        dunning.clock.advance(minutes=61)
    assert dunning.alerts.keys() == []


async def test_a_notice_that_cannot_be_queued_is_an_alert_and_the_case_stands(dunning):
    dunning.notices.down = True
    case = await dunning.missed()
    assert case.id == 1 and dunning.store.cases[1].status is CaseStatus.RETRY_SCHEDULED
    assert dunning.alerts.keys() == [FOLLOWUP_ALERT]
    assert dunning.erp.steps == [(1, "past_due")]


async def test_billing_reports_a_declined_period_as_a_subscription_case(dunning):
    sub = subscription(id=5)
    entry = BillingEntry(
        id=42,
        subscription_id=5,
        period=Period(0, date(2026, 5, 1), date(2026, 6, 1)),
        entry=0,
        status=EntryStatus.INVOICED,
        lines=(ChargeLine("Gold plan", Money.of("30.00")),),
        invoice_key="SUB-5-P0",
        claimed_at=dunning.clock.now(),
        invoice_number="FTI-000001",
    )
    await SubscriptionDunning(dunning.ports()).charge_missed(
        ClaimedEntry(entry, sub), EntryStatus.DECLINED, "Declined by the card issuer. NSF."
    )

    [case] = dunning.store.cases.values()
    assert (case.source, case.source_key, case.subscription_id) == (
        CaseSource.SUBSCRIPTION,
        "subscription-entry:42",
        5,
    )
    assert (case.invoice_number, case.vault_customer_id, case.amount) == (
        "FTI-000001",
        "cust-1",
        entry.total,
    )


async def test_auto_pay_reports_a_decline_to_dunning(dunning):
    dunning.receivables.cards["US-001"] = CardOnFile("cust-1", auto_pay=True)
    dunning.gateway.decline_next = [NSF]
    posted = InvoicePosted("INV-1", "US-001", "usmf", dunning.clock.now())

    result = await pay_posted_invoice(
        posted,
        company="usmf",
        ctx=await dunning._charging(),
        attempts=FakeChargeAttempts(),
        dunning=CaseOpener(dunning.ports()),
    )

    assert result.outcome is AutoPayOutcome.DECLINED
    [case] = dunning.store.cases.values()
    assert (case.source, case.invoice_number, case.amount) == (
        CaseSource.AUTO_PAY,
        "INV-1",
        Money.of("30.00"),
    )
    assert case.source_key == f"auto-pay:INV-1:{result.gateway_txn_id}"
