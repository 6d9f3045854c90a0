"""The billing run with fakes: each due period invoiced and charged once, whatever fails
where, and the subscription's status after the charge."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from functools import partial

import pytest

from payledger.domain.clock import ManualClock
from payledger.domain.errors import AmbiguousOutcome, TransientError
from payledger.domain.model import Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.money import Money
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus, claim_due
from payledger.flows.bill_subscriptions import (
    BillingPorts,
    BillSubscriptions,
    bill_subscriptions,
)
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.ports import ClaimedEntry, FreeTextInvoice, InvoiceLine
from tests.fakes import (
    FakeFreeTextInvoicing,
    FakeSubscriptionMirror,
    FakeSubscriptionStore,
)
from tests.fakes_charging import (
    WHEN,
    FakeCardGateway,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)
from tests.unit.domain.subscription_builders import local, plan, subscription

FIRST_DUE = local(date(2026, 1, 31), 0, 5)
RUN = BillSubscriptions(catch_up="all", max_per_run=50, revenue_account="401100", owner="t")


class Billing:
    """The ports of a billing run, all fakes, with the ERP's posted invoices open to charge."""

    def __init__(self) -> None:
        self.clock = ManualClock(FIRST_DUE)
        self.store = FakeSubscriptionStore(self.clock)
        self.erp = FakeReceivables()
        self.invoicing = FakeFreeTextInvoicing(numbering=self._open)
        self.gateway = FakeCardGateway()
        self.records = FakeChargeRecords()
        self.mirror = FakeSubscriptionMirror()
        self.missed: list[tuple[ClaimedEntry, EntryStatus, str]] = []

    async def _open(self, invoice: FreeTextInvoice) -> str:
        """Number a posted invoice as the ERP does, and hold it open to be charged."""
        number = f"FTI-{len(self.invoicing.numbers) + 1:06d}"
        self.erp.invoice_of(number, str(invoice.total.amount), invoice.customer_account)
        return number

    async def charge_missed(self, claimed: ClaimedEntry, outcome: EntryStatus, reason: str) -> None:
        self.missed.append((claimed, outcome, reason))

    def ports(self) -> BillingPorts:
        ctx = ChargeContext(
            gateway=self.gateway,
            receivables=self.erp,
            records=self.records,
            now=WHEN,
            requests=charge_requests(self.erp),
        )
        return BillingPorts(self.store, self.invoicing, self.mirror, ctx, self.clock, dunning=self)

    async def run(self, cmd: BillSubscriptions = RUN):
        return await bill_subscriptions(cmd, self.ports())

    async def entries(self, subscription_id: int = 1):
        return await self.store.entries(subscription_id)


@pytest.fixture
async def billing() -> Billing:
    b = Billing()
    await b.store.add(subscription(id=0), actor="test")
    return b


async def test_a_due_period_is_invoiced_charged_and_the_subscription_mirrored(billing):
    report = await billing.run()

    assert report.outcomes == {"charged": 1}
    [entry] = await billing.entries()
    assert (entry.status, entry.invoice_number, entry.gateway_txn_id) == (
        EntryStatus.CHARGED,
        "FTI-000001",
        "1001",
    )
    invoice = billing.invoicing.invoices["SUB-1-P0"]
    assert invoice.customer_account == "US-001" and invoice.invoice_date == date(2026, 1, 31)
    assert [(line.amount, line.ledger_account) for line in invoice.lines] == [
        (Money.of("30.00"), "401100")
    ]
    assert billing.gateway.calls == [("sale", Money.of("30.00"))]
    assert billing.records.records["1001"].invoice_number == "FTI-000001"
    assert billing.records.records["1001"].client == "subscriptions"
    assert billing.mirror.written == [("US-001", "active")]  # shown from the first charge


async def test_a_second_run_bills_nothing_twice(billing):
    await billing.run()
    billing.clock.advance(minutes=5)
    report = await billing.run()
    assert report.outcomes == {}
    assert billing.invoicing.creates == ["SUB-1-P0"]
    assert len(billing.gateway.calls) == 1


async def test_the_next_period_is_billed_when_it_is_due(billing):
    await billing.run()
    billing.clock.advance(days=28)  # Feb 28, 00:05 in Los Angeles
    await billing.run()
    assert [e.invoice_key for e in await billing.entries()] == ["SUB-1-P0", "SUB-1-P1"]
    assert len(billing.gateway.calls) == 2


async def test_a_decline_makes_the_subscription_past_due_and_tells_dunning(billing):
    await billing.store.add(subscription(id=0, plan=plan("1.12")), actor="test")  # declined
    await billing.run()
    [entry] = await billing.entries(2)
    assert entry.status is EntryStatus.DECLINED and "Do not honor" in entry.error
    assert billing.store.subscriptions[2].status is SubscriptionStatus.PAST_DUE
    assert ("US-001", "past_due") in billing.mirror.written
    [(claimed, outcome, _)] = billing.missed
    assert (claimed.entry.id, outcome) == (entry.id, EntryStatus.DECLINED)


async def test_a_charge_after_past_due_makes_it_active_again(billing):
    billing.store.subscriptions[1] = replace(
        billing.store.subscriptions[1], status=SubscriptionStatus.PAST_DUE
    )
    await billing.run()
    assert billing.store.subscriptions[1].status is SubscriptionStatus.ACTIVE
    assert billing.mirror.written == [("US-001", "active")]


async def test_an_erp_outage_leaves_the_period_planned_and_the_next_run_bills_it_once(billing):
    billing.invoicing.down = True
    report = await billing.run()
    [entry] = await billing.entries()
    assert entry.status is EntryStatus.PLANNED and entry.attempts == 1
    assert "TransientError" in report.stopped and report.outcomes == {"waiting": 1}
    assert billing.gateway.calls == []

    billing.invoicing.down = False
    await billing.run()
    [entry] = await billing.entries()
    assert entry.status is EntryStatus.CHARGED
    assert len(billing.invoicing.invoices) == 1 and len(billing.gateway.calls) == 1


async def test_a_lost_answer_after_the_create_issues_the_invoice_once(billing):
    billing.invoicing.lose_create_answer = 1
    await billing.run()
    await billing.run()
    [entry] = await billing.entries()
    assert entry.status is EntryStatus.CHARGED
    assert list(billing.invoicing.invoices) == ["SUB-1-P0"]
    assert billing.invoicing.posts == ["SUB-1-P0"]


async def test_a_lost_answer_after_the_post_is_settled_by_finding_the_invoice(billing):
    billing.invoicing.lose_post_answer = 1
    report = await billing.run()
    assert report.outcomes == {"charged": 1}
    assert billing.invoicing.numbers == {"SUB-1-P0": "FTI-000001"}


async def test_a_run_killed_after_the_post_is_resumed_at_the_charge_once_its_lease_lapses(
    billing,
):
    now = billing.clock.now()
    [claimed] = await billing.store.claim_due(
        now,
        limit=10,
        owner="killed-worker",
        lease=timedelta(minutes=10),
        plan=partial(claim_due, now=now, catch_up="all"),
    )
    line = InvoiceLine(claimed.entry.lines[0].description, Money.of("30.00"))
    invoice = FreeTextInvoice("SUB-1-P0", "US-001", date(2026, 1, 31), "USD", (line,))
    await billing.invoicing.create(invoice)
    await billing.invoicing.post("SUB-1-P0")  # ... and the worker dies here

    assert (await billing.run()).outcomes == {}  # still leased to the dead worker
    billing.clock.advance(minutes=11)
    report = await billing.run()

    assert report.outcomes == {"charged": 1}
    assert list(billing.invoicing.invoices) == ["SUB-1-P0"]
    assert billing.invoicing.posts == ["SUB-1-P0"]  # found posted: not posted again
    assert (await billing.entries())[0].invoice_number == "FTI-000001"


async def test_a_run_slower_than_its_lease_keeps_its_entries_from_another_run(billing):
    erp_answers = asyncio.Event()
    open_invoice = billing.invoicing.numbering

    async def slow_erp(invoice: FreeTextInvoice) -> str:
        await erp_answers.wait()
        return await open_invoice(invoice)

    billing.invoicing.numbering = slow_erp
    run = asyncio.create_task(billing.run(replace(RUN, lease=timedelta(milliseconds=30))))
    await asyncio.sleep(0.02)
    billing.clock.advance(seconds=1)  # long past the first lease ...
    await asyncio.sleep(0.05)  # ... which the run at work has renewed meanwhile
    now = billing.clock.now()
    taken = await billing.store.claim_due(
        now, limit=10, owner="other", lease=RUN.lease, plan=partial(claim_due, now=now)
    )
    erp_answers.set()
    report = await run

    assert taken == []
    assert report.outcomes == {"charged": 1}
    assert billing.invoicing.creates == ["SUB-1-P0"]


async def test_a_lost_answer_after_the_charge_is_found_at_the_gateway_not_charged_again(billing):
    # the gateway charges, the answer never comes back
    billing.gateway = FakeCardGateway(fail_next=[AmbiguousOutcome("no answer", system="fake")])
    report = await billing.run()
    assert report.outcomes == {"waiting": 1}
    [entry] = await billing.entries()
    assert entry.status is EntryStatus.INVOICED and entry.charge_started
    billing.gateway.lost_charges.append(
        Payment(
            "5555",
            PaymentKind.SALE,
            PaymentStatus.APPROVED,
            Money.of("30.00"),
            WHEN,
            outcome=Outcome.APPROVED,
            message="Approved.",
            invoice_ref="FTI-000001",
        )
    )

    billing.clock.advance(minutes=5)
    report = await billing.run()

    assert report.outcomes == {"charged": 1}
    [entry] = await billing.entries()
    assert (entry.status, entry.gateway_txn_id) == (EntryStatus.CHARGED, "5555")
    assert len(billing.gateway.calls) == 1  # the lost one: nothing charged again
    assert billing.records.records["5555"].client == "subscriptions"


async def test_a_run_cut_off_after_recording_the_charge_marks_the_period_charged(billing):
    await billing.run()
    [entry] = await billing.entries()
    # as if the worker died after the charge was recorded but before the period was
    billing.store.rows[entry.id] = replace(entry, status=EntryStatus.INVOICED)

    report = await billing.run()

    assert report.outcomes == {"charged": 1}
    assert (await billing.entries())[0].gateway_txn_id == "1001"
    assert len(billing.gateway.calls) == 1


async def test_a_gateway_outage_leaves_the_period_invoiced_and_never_reinvoices(billing):
    billing.gateway = FakeCardGateway(fail_next=[TransientError("PayTrace is down", system="fake")])
    await billing.run()
    [entry] = await billing.entries()
    assert entry.status is EntryStatus.INVOICED
    await billing.run()
    [entry] = await billing.entries()
    assert entry.status is EntryStatus.CHARGED
    assert billing.invoicing.creates == ["SUB-1-P0"]


async def test_a_refused_invoice_waits_for_a_person_and_the_run_goes_on(billing):
    await billing.store.add(subscription(id=0, customer_account="US-002"), actor="test")
    billing.invoicing.refuse = True
    report = await billing.run()
    assert report.outcomes == {"waiting": 2} and report.stopped == ""
    assert len(report.errors) == 2 and "refused" in report.errors[0]


async def test_a_period_covered_by_credit_is_skipped_without_an_invoice(billing):
    billing.store.subscriptions[1] = replace(billing.store.subscriptions[1], credit=40)
    report = await billing.run()
    assert report.outcomes == {"skipped": 1}
    assert billing.invoicing.creates == [] and billing.gateway.calls == []


async def test_a_run_takes_at_most_max_per_run(billing):
    for _ in range(4):
        await billing.store.add(subscription(id=0), actor="test")
    report = await billing.run(replace(RUN, max_per_run=3))
    assert sum(report.outcomes.values()) == 3
    report = await billing.run(replace(RUN, max_per_run=3))
    assert sum(report.outcomes.values()) == 2
