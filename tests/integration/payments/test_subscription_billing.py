"""The billing job on both databases, charging through the real PayTrace sandbox: each period
is charged once at PayTrace, its payment reaches D365 marking the invoice, a decline makes
the subscription past due. D365's free-text invoices are faked (their adapter is not part of
this slice): posting one opens a sales invoice in the D365 sandbox with the same total."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from payledger.bootstrap import Container
from payledger.bootstrap.subscriptions import (
    BILL_SUBSCRIPTIONS,
    bill_subscriptions_job,
)
from payledger.domain.money import Money
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus
from payledger.domain.subscriptions_periods import BillingSchedule, Interval
from payledger.engine.jobs import Job
from payledger.flows.ports import FreeTextInvoice
from payledger.stores.subscriptions import SqlSubscriptions
from tests.fakes import FakeFreeTextInvoicing, FakeSubscriptionMirror
from tests.integration.payments.conftest import drain, encrypted_card, money, post_invoice, rows
from tests.unit.domain.subscription_builders import plan


class Billing:
    """The fake invoicing and mirror the job is built with, D365's invoices in the sandbox."""

    def __init__(self, d365: httpx.AsyncClient) -> None:
        self.d365 = d365
        self.invoicing = FakeFreeTextInvoicing(numbering=self._post_in_d365)
        self.mirror = FakeSubscriptionMirror()

    async def _post_in_d365(self, invoice: FreeTextInvoice) -> str:
        posted = await post_invoice(self.d365, invoice.customer_account, str(invoice.total.amount))
        number: str = posted["invoice"]["InvoiceNumber"]
        return number

    def job(self, container: Container):
        async def invoicing(_c: Container) -> FakeFreeTextInvoicing:
            return self.invoicing

        async def mirror(_c: Container) -> FakeSubscriptionMirror:
            return self.mirror

        return bill_subscriptions_job(container, invoicing=invoicing, mirror=mirror)


async def run(handler, number: int = 1) -> None:
    await handler(Job(number, BILL_SUBSCRIPTIONS, {}, attempts=1, max_attempts=8))


async def a_subscription(container: Container, paytrace, amount: str, customer: str) -> int:
    created = await paytrace.create_customer(customer, card=encrypted_card())
    assert created.success
    timezone = container.settings.subscriptions.timezone
    today = container.clock.now().astimezone(ZoneInfo(timezone)).date()
    store = SqlSubscriptions(container.database, container.clock)
    stored = await store.add(
        Subscription(
            customer_account="US-003",
            vault_customer_id=customer,
            plan=plan(amount, "Maintenance contract"),
            schedule=BillingSchedule(today, Interval(), timezone),
        ),
        actor="test",
    )
    return stored.id


@pytest.fixture
def billing(d365) -> Billing:
    return Billing(d365)


async def test_a_due_period_is_charged_once_at_paytrace_and_posted_to_its_invoice(
    container, paytrace, d365, billing
):
    sub_id = await a_subscription(container, paytrace, "49.90", "sub-cust-1")
    handler = billing.job(container)

    await run(handler)
    await run(handler, 2)  # a second run (or tick) bills nothing again

    store = SqlSubscriptions(container.database, container.clock)
    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.CHARGED, entry.error
    assert billing.invoicing.creates == [f"SUB-{sub_id}-P0"]
    today = container.clock.now().date()
    sales = await paytrace.export_transactions(today - timedelta(days=2), today + timedelta(days=2))
    mine = [s for s in sales if s.invoice_id == entry.invoice_number]
    assert [(str(s.transaction_id), money(s.amount)) for s in mine] == [
        (entry.gateway_txn_id, Decimal("49.90"))
    ]
    assert (await store.get(sub_id)).status is SubscriptionStatus.ACTIVE  # type: ignore[union-attr]

    await drain(container)
    [line] = await rows(
        d365, "CustomerPaymentJournalLines", PaymentReference=f"PT-{entry.gateway_txn_id}-PAY"
    )
    assert line["MarkedInvoice"] == entry.invoice_number
    assert money(line["CreditAmount"]) == Decimal("49.90")


async def test_a_decline_at_paytrace_makes_the_subscription_past_due(container, paytrace, billing):
    sub_id = await a_subscription(container, paytrace, "1.12", "sub-cust-2")  # declined

    await run(billing.job(container))

    store = SqlSubscriptions(container.database, container.clock)
    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.DECLINED and "Do not honor" in entry.error
    assert (await store.get(sub_id)).status is SubscriptionStatus.PAST_DUE  # type: ignore[union-attr]
    assert billing.mirror.written == [("US-003", "past_due")]
    assert entry.total == Money.of("1.12")


async def test_paytrace_down_leaves_the_period_invoiced_and_the_next_run_charges_it_once(
    container, paytrace, billing, stage
):
    sub_id = await a_subscription(container, paytrace, "20.00", "sub-cust-3")
    handler = billing.job(container)
    stage.paytrace.faults.settings.update({"outage": True})
    try:
        await run(handler)
    finally:
        stage.paytrace.faults.settings.update({"outage": False})
    store = SqlSubscriptions(container.database, container.clock)
    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.INVOICED and entry.attempts == 1

    await run(handler, 2)

    [entry] = await store.entries(sub_id)
    assert entry.status is EntryStatus.CHARGED
    today = container.clock.now().date()
    sales = await paytrace.export_transactions(today - timedelta(days=2), today + timedelta(days=2))
    assert len([s for s in sales if s.invoice_id == entry.invoice_number]) == 1
    assert len(billing.invoicing.creates) == 1
