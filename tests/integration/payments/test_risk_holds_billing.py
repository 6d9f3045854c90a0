"""Subscription billing and dunning retries screened before PayTrace is called, with the real
scorer, both sandboxes and payledger's container, on SQLite and PostgreSQL (``[risk] mode =
"enforce"``; a new customer's first charge above 100 and a second attempt on one card within
two days score ``review``).

A period whose charge scores ``review`` is invoiced in D365 but not charged: it stays
``invoiced`` and every billing run reports it ``held``. ``payledger risk review approve``
releases a billing run that charges it exactly once (the release job run again, and a second
container's billing run at the same time, change nothing) and its journal line reaches D365
once; a rejected period is never charged and ends ``rejected``. A soft-declined invoice whose
dunning retry scores ``review`` is held with no attempt counted; approval charges it once and
recovers the case.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import alerts, jobs
from payledger.bootstrap import Container
from payledger.bootstrap.dunning import RETRY_DUNNING, dunning_ports, retry_command
from payledger.bootstrap.risk import review_queue
from payledger.bootstrap.subscriptions import (
    BILL_SUBSCRIPTIONS,
    bill_command,
    bill_subscriptions_job,
    billing_ports,
)
from payledger.config import (
    AlertsSettings,
    DunningSettings,
    RiskModelSettings,
    RiskRuleSettings,
    RiskSettings,
    Settings,
    SubscriptionSettings,
)
from payledger.domain.dunning import AttemptOutcome, CaseStatus
from payledger.domain.subscriptions_billing import EntryStatus
from payledger.engine.jobs import Job, NewJob
from payledger.flows.bill_subscriptions import BillingReport, bill_subscriptions
from payledger.flows.dunning import RetryReport, retry_due
from payledger.flows.ports.risk import HeldKind, ReviewItem, ReviewState
from payledger.sandbox.paytrace.records import TxnStatus
from payledger.stores.dunning import SqlDunning
from payledger.stores.subscriptions import SqlSubscriptions
from tests.fakes import FakeSubscriptionMirror
from tests.integration.payments.conftest import drain, money, prepared, rows
from tests.integration.payments.test_dunning_recovery import decline_next, move_to
from tests.integration.payments.test_refund_holds import decide_in_cli
from tests.integration.payments.test_subscription_billing import Billing, a_subscription, run
from tests.integration.payments.test_subscription_billing_e2e import (
    ShiftedClock,
    charges_of,
    invoices_with_key,
    subscribe,
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Enforced screening: a new customer's first charge above 100, and a second charge
    attempt on one card within two days, go to review. Billing and dunning run as jobs."""
    rules = RiskRuleSettings(
        new_customer_amount=money("100"),
        velocity_window_minutes=2 * 24 * 60,
        customer_count=1,
        weights={"new_customer_large": 0.9, "velocity_customer": 0.9},
    )
    risk = RiskSettings(
        mode="enforce", rules=rules, model=RiskModelSettings(directory=tmp_path / "risk-models")
    )
    return settings.model_copy(
        update={
            "risk": risk,
            "alerts": AlertsSettings(gather_seconds=0, dedup_window_seconds=0),  # drains
            "subscriptions": SubscriptionSettings(enabled=True),
            "dunning": DunningSettings(enabled=True),
        }
    )


async def billing_run(container: Container) -> BillingReport:
    """One billing run, as the ``subscriptions.bill`` job makes it; returns its report."""
    ports = await billing_ports(container)
    return await bill_subscriptions(bill_command(container.settings, owner="test-run"), ports)


async def alert_keys(container: Container) -> list[str]:
    async with container.database.transaction() as conn:
        return list((await conn.execute(select(alerts.c.key))).scalars())


async def release_jobs(container: Container) -> list[tuple[str, dict]]:
    async with container.database.transaction() as conn:
        found = await conn.execute(
            select(jobs.c.kind, jobs.c.payload).where(jobs.c.dedupe_key.like("risk-release:%"))
        )
        return [(row.kind, dict(row.payload)) for row in found]


async def held_period(container: Container, paytrace, vault_id: str) -> tuple[int, ReviewItem]:
    """A new customer's 150.00 period, billed by one run: invoiced, its charge held."""
    sub_id = await subscribe(container, paytrace, vault_id, "150.00")
    report = await billing_run(container)
    assert report.outcomes == {"held": 1}, report
    [item] = await review_queue(container).items()
    return sub_id, item


async def test_a_held_period_is_invoiced_not_charged_and_charged_once_on_approval(
    container, paytrace, d365, settings
):
    sub_id, item = await held_period(container, paytrace, "hold-cust-1")

    store = SqlSubscriptions(container.database, container.clock)
    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.INVOICED and "held for risk review" in entry.error
    assert len(await invoices_with_key(d365, entry.invoice_key)) == 1  # invoiced in D365
    assert await charges_of(paytrace, entry.invoice_number) == []  # PayTrace never called
    assert (item.kind, item.ref) == (HeldKind.CHARGE, f"subscriptions:{entry.invoice_number}")
    assert item.amount.amount == money("150.00")
    assert [r.code for r in item.reasons] == ["new_customer_large"]
    assert f"risk-review:charge:subscriptions:{entry.invoice_number}" in await alert_keys(container)
    again = await billing_run(container)  # a later run while the review is pending
    assert again.outcomes == {"held": 1}
    assert await charges_of(paytrace, entry.invoice_number) == []

    output = await decide_in_cli(settings, "approve", item.id)
    assert (
        f"item {item.id} (charge subscriptions:{entry.invoice_number}): approved, 1 released"
        in output
    )
    assert [kind for kind, _payload in await release_jobs(container)] == [BILL_SUBSCRIPTIONS]
    other = await prepared(settings)  # a second container billing at the same time
    try:
        other_run = bill_subscriptions_job(other)
        await asyncio.gather(
            drain(container),
            other_run(Job(9, BILL_SUBSCRIPTIONS, {}, attempts=1, max_attempts=8)),
        )
    finally:
        await other.aclose()
    async with container.database.transaction() as conn:  # the release job delivered again
        await container.queue.enqueue(conn, NewJob(BILL_SUBSCRIPTIONS, {}))
    await drain(container)
    assert (await billing_run(container)).outcomes == {}  # nothing left to bill

    [sale] = await charges_of(paytrace, entry.invoice_number)
    assert money(sale.amount) == money("150.00")
    [entry] = await store.entries(sub_id)
    assert (entry.status, entry.gateway_txn_id) == (EntryStatus.CHARGED, str(sale.transaction_id))
    [line] = await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=entry.invoice_number)
    assert line["PaymentReference"] == f"PT-{sale.transaction_id}-PAY"
    [decided] = await review_queue(container).items(None)  # its posting was not held again
    assert (decided.state, decided.transaction_id) == (
        ReviewState.APPROVED,
        str(sale.transaction_id),
    )


async def test_a_rejected_period_is_never_charged_and_ends_rejected(
    container, paytrace, d365, settings
):
    sub_id, item = await held_period(container, paytrace, "hold-cust-2")
    store = SqlSubscriptions(container.database, container.clock)
    status_before = (await store.get(sub_id)).status  # type: ignore[union-attr]

    output = await decide_in_cli(settings, "reject", item.id)
    assert "rejected" in output
    await drain(container)  # the released billing run records the rejection
    await billing_run(container)

    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.REJECTED
    assert "rejected in risk review by cli:" in entry.error
    assert await charges_of(paytrace, entry.invoice_number) == []
    assert await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=entry.invoice_number) == []
    assert f"risk-rejected:charge:subscriptions:{entry.invoice_number}" in await alert_keys(
        container
    )
    assert (await store.get(sub_id)).status is status_before  # type: ignore[union-attr]
    dunning = SqlDunning(container.database, container.clock)
    assert await dunning.active_for_invoice(entry.invoice_number) is None  # dunning not told


@pytest.fixture
async def dunning_container(settings: Settings) -> AsyncIterator[Container]:
    """payledger on a clock the test moves (and the PayTrace sandbox's with it); real time
    passes on it, so the worker's delayed jobs come due."""
    built = await prepared(settings, clock=ShiftedClock())
    yield built
    await built.aclose()


async def retry_run(container: Container) -> RetryReport:
    """One dunning retry run, as the ``dunning.retry`` job makes it; returns its report."""
    ports = await dunning_ports(container, mirror=FakeSubscriptionMirror())
    return await retry_due(retry_command(container.settings, owner="test-retry"), ports)


async def test_a_held_dunning_retry_counts_no_attempt_and_is_charged_once_on_approval(
    dunning_container, paytrace, d365, stage, settings
):
    container = dunning_container
    sub_id = await a_subscription(container, paytrace, "49.90", "hold-dun-1")
    await decline_next(stage, "hold-dun-1", "    NSF - Insufficient funds", 1)
    await run(Billing(d365).job(container))  # below 100: charged at once, and soft-declined
    [entry] = await SqlSubscriptions(container.database, container.clock).entries(sub_id)
    assert entry.status is EntryStatus.DECLINED, entry.error
    store = SqlDunning(container.database, container.clock)
    case = await store.active_for_invoice(entry.invoice_number)
    assert case is not None and case.next_attempt_at is not None
    move_to(container, stage, case.next_attempt_at + timedelta(minutes=1))

    assert (await retry_run(container)).outcomes == {"held": 1}  # the customer's second attempt
    assert (await retry_run(container)).outcomes == {"held": 1}  # claimed again, still held
    held = await store.get(case.id)
    assert held is not None
    assert held.status is CaseStatus.RETRY_SCHEDULED
    # no attempt counted: the retry (no. 1) is claimed again by each run, never finished
    assert [(a.no, a.outcome, a.gateway_txn_id) for a in held.attempts] == [
        (0, AttemptOutcome.DECLINED, ""),
        (1, AttemptOutcome.STARTED, ""),
    ]
    [item] = await review_queue(container).items()
    assert item.ref == f"dunning:{entry.invoice_number}:{case.id}:1"
    assert "velocity_customer" in [r.code for r in item.reasons]
    assert [t.status for t in approved_or_declined(stage, entry.invoice_number)] == [
        TxnStatus.DECLINED
    ]

    output = await decide_in_cli(settings, "approve", item.id)
    assert "approved" in output
    assert [kind for kind, _payload in await release_jobs(container)] == [RETRY_DUNNING]
    await drain(container)
    assert (await retry_run(container)).outcomes == {}  # the released run made it

    recovered = await store.get(case.id)
    assert recovered is not None and recovered.status is CaseStatus.RECOVERED
    assert [a.outcome for a in recovered.attempts] == [
        AttemptOutcome.DECLINED,
        AttemptOutcome.APPROVED,
    ]
    charges = approved_or_declined(stage, entry.invoice_number)
    [approved] = [t for t in charges if t.status is not TxnStatus.DECLINED]
    assert len(charges) == 2 and money(approved.amount) == Decimal("49.90")
    assert str(approved.transaction_id) == recovered.attempts[-1].gateway_txn_id
    assert (
        len(await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=entry.invoice_number))
        == 1
    )
    [decided] = await review_queue(container).items(None)
    assert (decided.state, decided.transaction_id) == (
        ReviewState.APPROVED,
        str(approved.transaction_id),
    )


def approved_or_declined(stage, invoice_number: str) -> list:
    """Every charge PayTrace's sandbox holds for the invoice, oldest first."""
    return [
        t
        for t in stage.paytrace.state.transactions.values()
        if t.details.get("invoice_id") == invoice_number
    ]
