"""Recurring billing end to end, on SQLite and PostgreSQL, with both real sandboxes (#16 item 2
"done"): a subscription billed by the job gets a free-text invoice created and posted in
D365, is charged at PayTrace, its payment reaches D365 as a journal line marking the invoice,
the ledger loop posts the journal once the day is over, and D365 then holds the invoice as
paid. A D365 and a PayTrace outage during runs delay the charge but never double or drop it,
and the subscription's status is mirrored to the D365 customer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from payledger.adapters.d365.journal_service import D365JournalPoster
from payledger.bootstrap import Container
from payledger.bootstrap.journals import post_journals_job
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS, bill_subscriptions_job
from payledger.config import PostingSettings, Settings
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus
from payledger.domain.subscriptions_periods import BillingSchedule, Interval
from payledger.engine.jobs import Job
from payledger.stores.subscriptions import SqlSubscriptions
from tests.integration.payments.conftest import drain, encrypted_card, money, prepared, rows
from tests.unit.domain.subscription_builders import plan

CUSTOMER = "US-003"


class ShiftedClock:
    """Real time, moved ahead by the test (the worker's waits still pass)."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, **delta: float) -> None:
        self.shift += timedelta(**delta)


@pytest.fixture
async def billing_container(settings: Settings) -> AsyncIterator[Container]:
    """payledger with a clock the test moves, posting journals ``when_balanced``."""
    posting = PostingSettings(post="when_balanced")
    built = await prepared(settings.model_copy(update={"posting": posting}), clock=ShiftedClock())
    yield built
    await built.aclose()


async def subscribe(container: Container, paytrace, vault_id: str, amount: str) -> int:
    assert (await paytrace.create_customer(vault_id, card=encrypted_card())).success
    timezone = container.settings.subscriptions.timezone
    today = container.clock.now().astimezone(ZoneInfo(timezone)).date()
    stored = await SqlSubscriptions(container.database, container.clock).add(
        Subscription(
            customer_account=CUSTOMER,
            vault_customer_id=vault_id,
            plan=plan(amount, "Maintenance contract"),
            schedule=BillingSchedule(today, Interval(), timezone),
        ),
        actor="test",
    )
    return stored.id


async def bill(container: Container, run: int) -> None:
    handler = bill_subscriptions_job(container)  # the real D365 invoices and status field
    await handler(Job(run, BILL_SUBSCRIPTIONS, {}, attempts=1, max_attempts=8))


async def post_journals(container: Container) -> None:
    handler = post_journals_job(container)  # the real D365JournalPoster
    await handler(Job(1, "journal.post", {}, attempts=1, max_attempts=5))


async def invoices_with_key(d365, key: str) -> list[dict]:
    return await rows(d365, "FreeTextInvoiceHeaders", CustomerReference=key)


async def charges_of(paytrace, invoice_number: str) -> list:
    today = datetime.now(UTC).date()
    sales = await paytrace.export_transactions(today - timedelta(days=2), today + timedelta(days=2))
    return [s for s in sales if s.invoice_id == invoice_number]


async def status_in_d365(d365) -> str:
    [customer] = await rows(d365, "CustomersV3", CustomerAccount=CUSTOMER)
    status: str = customer["PayTraceSubscriptionStatus"]
    return status


async def test_a_period_is_invoiced_charged_posted_and_settled_in_d365(
    billing_container, paytrace, d365
):
    container = billing_container
    sub_id = await subscribe(container, paytrace, "e2e-cust-1", "49.90")

    await bill(container, 1)

    store = SqlSubscriptions(container.database, container.clock)
    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.CHARGED, entry.error
    assert len(await invoices_with_key(d365, entry.invoice_key)) == 1
    [charge] = await charges_of(paytrace, entry.invoice_number)
    assert (str(charge.transaction_id), money(charge.amount)) == (
        entry.gateway_txn_id,
        Decimal("49.90"),
    )
    assert await status_in_d365(d365) == SubscriptionStatus.ACTIVE.value
    poster = D365JournalPoster(await container.d365_ledger(), container.settings.posting)
    assert await poster.open_invoice_amounts([entry.invoice_number]) == {
        entry.invoice_number: Decimal("49.90")
    }

    await drain(container)  # the payment's journal line reaches D365, marking the invoice
    [line] = await rows(
        d365, "CustomerPaymentJournalLines", PaymentReference=f"PT-{entry.gateway_txn_id}-PAY"
    )
    assert line["MarkedInvoice"] == entry.invoice_number
    container.clock.advance(days=2)  # type: ignore[attr-defined]  # the day is over
    await post_journals(container)

    state = (await d365.get("/_sandbox/state")).json()
    assert line["JournalBatchNumber"] in [j["batch"] for j in state["posted_journals"]]
    assert await poster.open_invoice_amounts([entry.invoice_number]) == {
        entry.invoice_number: Decimal(0)
    }
    [entry] = await store.entries(sub_id)  # the later run billed nothing twice
    assert len(await charges_of(paytrace, entry.invoice_number)) == 1


async def test_outages_during_runs_delay_the_charge_but_bill_the_period_exactly_once(
    billing_container, paytrace, d365, stage
):
    container = billing_container
    sub_id = await subscribe(container, paytrace, "e2e-cust-2", "20.00")
    store = SqlSubscriptions(container.database, container.clock)

    stage.d365.state.faults.settings.update({"outage": True})
    try:
        await bill(container, 1)
    finally:
        stage.d365.state.faults.settings.update({"outage": False})
    [entry] = await store.entries(sub_id)
    assert (entry.status, entry.attempts) == (EntryStatus.PLANNED, 1)

    stage.paytrace.faults.settings.update({"outage": True})
    try:
        await bill(container, 2)
    finally:
        stage.paytrace.faults.settings.update({"outage": False})
    [entry] = await store.entries(sub_id)
    assert (entry.status, entry.attempts) == (EntryStatus.INVOICED, 2)

    await bill(container, 3)
    await bill(container, 4)

    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.CHARGED, entry.error
    assert len(await invoices_with_key(d365, entry.invoice_key)) == 1
    assert len(await charges_of(paytrace, entry.invoice_number)) == 1
    await drain(container)
    assert (
        len(await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=entry.invoice_number))
        == 1
    )


async def test_a_declined_charge_shows_past_due_on_the_d365_customer(
    billing_container, paytrace, d365
):
    container = billing_container
    sub_id = await subscribe(container, paytrace, "e2e-cust-3", "1.12")  # declined

    await bill(container, 1)

    store = SqlSubscriptions(container.database, container.clock)
    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.DECLINED
    assert await status_in_d365(d365) == SubscriptionStatus.PAST_DUE.value
    assert (await store.get(sub_id)).status is SubscriptionStatus.PAST_DUE  # type: ignore[union-attr]
