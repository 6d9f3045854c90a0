"""Creating and changing subscriptions with fakes: validation through the ports, proration
charged at once or carried, each change audited, versions respected."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payledger.domain.money import Money
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus
from payledger.domain.subscriptions_changes import ChangeRefused
from payledger.domain.subscriptions_periods import InvalidSubscription
from payledger.flows.bill_subscriptions import BillSubscriptions
from payledger.flows.change_subscription import (
    CancelSubscription,
    ChangePlan,
    ChangePorts,
    CreateSubscription,
    PauseSubscription,
    ReplacePaymentMethod,
    ResumeSubscription,
    cancel_subscription,
    change_subscription_plan,
    create_subscription,
    pause_subscription,
    replace_subscription_payment_method,
    resume_subscription,
)
from payledger.flows.ports import StaleSubscription, UnknownSubscription
from tests.fakes import FakeSubscribers
from tests.unit.domain.subscription_builders import LA, local
from tests.unit.flows.test_bill_subscriptions import Billing

GOLD = CreateSubscription(
    customer_account="US-001",
    amount=Decimal("30.00"),
    currency="USD",
    description="Gold plan",
    actor="api:shop",
    anchor=date(2026, 1, 31),
)


@pytest.fixture
def billing() -> Billing:
    return Billing()


@pytest.fixture
def ports(billing) -> ChangePorts:
    subscribers = FakeSubscribers(
        {"US-001": "cust-1", "US-002": "", "US-003": "cust-gone"}, vault={"cust-1", "cust-2"}
    )
    return ChangePorts(
        billing.store,
        subscribers,
        billing.clock,
        LA,
        billing=billing.ports(),
        billing_command=BillSubscriptions(owner="change"),
    )


async def test_a_subscription_is_created_on_the_customers_card_and_audited(ports, billing):
    created = await create_subscription(GOLD, ports)
    assert (created.id, created.version, created.vault_customer_id) == (1, 1, "cust-1")
    assert created.status is SubscriptionStatus.ACTIVE
    assert created.next_due() == local(date(2026, 1, 31))
    assert billing.store.audit == [("api:shop", "subscription.created", 1)]


async def test_a_trial_makes_it_trialing(ports):
    from dataclasses import replace

    created = await create_subscription(replace(GOLD, trial_end=date(2026, 3, 1)), ports)
    assert created.status is SubscriptionStatus.TRIALING


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_account": "US-999"}, "customer_account"),
        ({"customer_account": "US-002"}, "vault_customer_id"),
        ({"customer_account": "US-003"}, "vault_customer_id"),
        ({"vault_customer_id": "cust-unknown"}, "vault_customer_id"),
        ({"amount": Decimal("0")}, "plan.amount"),
        ({"amount": Decimal("9.999")}, "plan.amount"),
        ({"currency": "ABC"}, "plan.currency"),
        ({"unit": "fortnight"}, "interval.unit"),
        ({"every": 0}, "interval.every"),
        ({"rule": "0 0 31 2 *"}, "interval"),
        ({"end_date": date(2026, 1, 1)}, "end_date"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    ports, billing, changes, field
):
    from dataclasses import replace

    with pytest.raises(InvalidSubscription) as refused:
        await create_subscription(replace(GOLD, **changes), ports)
    assert refused.value.field == field
    assert billing.store.subscriptions == {}


async def billed_gold(ports, billing):
    """Gold, with its periods up to Feb 28 - Mar 31 billed, on Mar 10 at noon."""
    await create_subscription(GOLD, ports)
    billing.clock.advance(days=28)  # Feb 28
    await billing.run()
    billing.clock.advance(days=10, hours=12)  # Mar 10, 12:05
    return await billing.store.get(1)


async def test_an_upgrade_is_invoiced_and_charged_at_once_to_the_cent(ports, billing):
    await billed_gold(ports, billing)
    result = await change_subscription_plan(
        ChangePlan(1, Decimal("50.00"), "USD", "Platinum", actor="api:shop"), ports
    )
    assert result.upgrade_charge == "charged"
    assert result.proration is not None and result.proration.difference == Money.of("13.55")
    upgrade = billing.invoicing.invoices["SUB-1-P1-U1"]
    assert upgrade.total == Money.of("13.55")
    assert billing.gateway.calls[-1] == ("sale", Money.of("13.55"))
    entries = await billing.store.entries(1)
    assert [(e.invoice_key, e.status) for e in entries] == [
        ("SUB-1-P0", EntryStatus.CHARGED),
        ("SUB-1-P1", EntryStatus.CHARGED),
        ("SUB-1-P1-U1", EntryStatus.CHARGED),
    ]
    assert result.subscription.plan.amount == Money.of("50.00")
    assert ("api:shop", "subscription.plan_changed", 1) in billing.store.audit


async def test_a_downgrade_is_credited_on_the_next_invoice(ports, billing):
    await billed_gold(ports, billing)
    result = await change_subscription_plan(
        ChangePlan(1, Decimal("20.00"), "USD", "Silver", actor="api:shop"), ports
    )
    # 30.00 * 21/31 = 20.32 credited, 20.00 * 21/31 = 13.55 charged: 6.77 owed to them
    assert result.upgrade_charge == "" and result.subscription.credit == Decimal("6.77")
    billing.clock.advance(days=21)  # Mar 31: the next period
    await billing.run()
    invoice = billing.invoicing.invoices["SUB-1-P2"]
    assert [line.amount for line in invoice.lines] == [Money.of("20.00"), Money.of("-6.77")]
    assert billing.gateway.calls[-1] == ("sale", Money.of("13.23"))
    assert (await billing.store.get(1)).credit == 0  # type: ignore[union-attr]


async def test_an_upgrade_the_gateway_cannot_take_now_waits_for_the_billing_run(ports, billing):
    await billed_gold(ports, billing)
    billing.invoicing.down = True
    result = await change_subscription_plan(
        ChangePlan(1, Decimal("50.00"), "USD", "Platinum", actor="api:shop"), ports
    )
    assert result.upgrade_charge == "waiting"
    billing.invoicing.down = False
    await billing.run()
    upgrade = [e for e in await billing.store.entries(1) if e.entry == 1]
    assert [e.status for e in upgrade] == [EntryStatus.CHARGED]


async def test_pause_and_resume_skip_the_periods_in_between(ports, billing):
    await billed_gold(ports, billing)
    paused = await pause_subscription(PauseSubscription(1, actor="console:ann"), ports)
    assert paused.status is SubscriptionStatus.PAUSED
    billing.clock.advance(days=40)  # Apr 19: period 2 (Mar 31) passed while paused
    await billing.run()
    resumed = await resume_subscription(ResumeSubscription(1, actor="console:ann"), ports)
    assert resumed.next_period == 3
    await billing.run()
    assert [e.period.index for e in await billing.store.entries(1)] == [0, 1]
    actions = [action for _, action, _ in billing.store.audit]
    assert "subscription.paused" in actions and "subscription.resumed" in actions


async def test_cancel_at_period_end_bills_no_more_and_then_reads_cancelled(ports, billing):
    await billed_gold(ports, billing)
    await cancel_subscription(CancelSubscription(1, actor="api:shop", at_period_end=True), ports)
    billing.clock.advance(days=25)  # past Mar 31
    await billing.run()
    assert [e.period.index for e in await billing.store.entries(1)] == [0, 1]
    assert billing.store.subscriptions[1].status is SubscriptionStatus.CANCELLED


async def test_cancel_now_and_then_nothing_else_changes(ports, billing):
    await create_subscription(GOLD, ports)
    await cancel_subscription(CancelSubscription(1, actor="api:shop"), ports)
    with pytest.raises(ChangeRefused):
        await pause_subscription(PauseSubscription(1, actor="api:shop"), ports)


async def test_a_replaced_payment_method_is_charged_from_the_next_period(ports, billing):
    await billed_gold(ports, billing)
    await replace_subscription_payment_method(
        ReplacePaymentMethod(1, "cust-2", actor="api:shop"), ports
    )
    with pytest.raises(InvalidSubscription) as refused:
        await replace_subscription_payment_method(
            ReplacePaymentMethod(1, "cust-unknown", actor="api:shop"), ports
        )
    assert refused.value.field == "vault_customer_id"
    billing.clock.advance(days=21)
    await billing.run()
    [latest] = [e for e in await billing.store.entries(1) if e.period.index == 2]
    assert billing.store.subscriptions[1].vault_customer_id == "cust-2"
    assert billing.records.records[latest.gateway_txn_id].invoice_number == latest.invoice_number


async def test_a_change_from_an_old_version_is_refused(ports, billing):
    await create_subscription(GOLD, ports)
    await pause_subscription(PauseSubscription(1, actor="a"), ports)
    with pytest.raises(StaleSubscription):
        await resume_subscription(ResumeSubscription(1, actor="b", expected_version=1), ports)


async def test_an_unknown_subscription_is_not_found(ports):
    with pytest.raises(UnknownSubscription):
        await pause_subscription(PauseSubscription(42, actor="a"), ports)
