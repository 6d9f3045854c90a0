"""Creating and changing subscriptions: one command per change, each stored with an audit entry.

Every change is made on the version the caller read (``expected_version``) or, when it gives
none, on the current one (read again if a billing run moved it meanwhile). The rules are in
:mod:`payledger.domain.subscriptions_changes`; an upgrade's proration is invoiced and charged
at once through the billing run's own step (:func:`~.bill_subscriptions.bill_entry`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from payledger.domain.clock import Clock
from payledger.domain.subscriptions import (
    Plan,
    Subscription,
    SubscriptionStatus,
    check_plan,
)
from payledger.domain.subscriptions_changes import (
    Proration,
    cancel,
    change_plan,
    pause,
    replace_payment_method,
    resume,
)
from payledger.domain.subscriptions_periods import (
    BillingSchedule,
    Interval,
    IntervalUnit,
    InvalidSubscription,
    zone,
)
from payledger.flows.bill_subscriptions import (
    BillingPorts,
    BillingReport,
    BillSubscriptions,
    bill_entry,
)
from payledger.flows.ports import (
    ClaimedEntry,
    StaleSubscription,
    Subscribers,
    SubscriptionStore,
    UnknownSubscription,
)

_RETRIES = 3


@dataclass(frozen=True)
class ChangePorts:
    store: SubscriptionStore
    subscribers: Subscribers
    clock: Clock
    timezone: str
    """The calendar new subscriptions count their periods in (``[subscriptions] timezone``)."""
    billing: BillingPorts | None = None
    """To charge an upgrade's proration at once (None: the next billing run charges it)."""
    billing_command: BillSubscriptions = field(
        default_factory=lambda: BillSubscriptions(owner="change")
    )
    """How the upgrade is billed (the revenue account; ``owner`` holds its entry)."""
    currency: str | None = None
    """The one currency the gateway account charges in (None: not checked)."""


@dataclass(frozen=True)
class CreateSubscription:
    customer_account: str
    amount: Decimal
    currency: str
    description: str
    actor: str
    unit: str = "month"
    """``day``, ``week``, ``month`` or ``year`` (ignored when ``rule`` is set)."""
    every: int = 1
    rule: str = ""
    """A cron rule for odd schedules (``0 0 1,15 * *``)."""
    anchor: date | None = None
    """First day of period 0; None: today in the subscriptions' timezone."""
    vault_customer_id: str = ""
    """The gateway customer to charge; "": the one the ERP customer carries."""
    trial_end: date | None = None
    end_date: date | None = None
    max_periods: int | None = None
    item: str = ""
    ledger_account: str = ""


@dataclass(frozen=True)
class ChangePlan:
    subscription_id: int
    amount: Decimal
    currency: str
    description: str
    actor: str
    item: str = ""
    ledger_account: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class PauseSubscription:
    subscription_id: int
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ResumeSubscription:
    subscription_id: int
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelSubscription:
    subscription_id: int
    actor: str
    at_period_end: bool = False
    expected_version: int | None = None


@dataclass(frozen=True)
class ReplacePaymentMethod:
    subscription_id: int
    vault_customer_id: str
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True)
class PlanChangeResult:
    subscription: Subscription
    proration: Proration | None
    upgrade_charge: str = ""
    """How the upgrade's proration entry ended now (``charged``, ``declined``, ``failed``,
    ``waiting`` for the next run), or "" when there was none."""


def _interval(cmd: CreateSubscription) -> Interval:
    if cmd.rule:
        return Interval(rule=cmd.rule)
    try:
        unit = IntervalUnit(cmd.unit)
    except ValueError:
        units = ", ".join(u.value for u in IntervalUnit)
        raise InvalidSubscription(
            "interval.unit", f"interval.unit must be one of {units}, not {cmd.unit!r}"
        ) from None
    return Interval(unit, cmd.every)


def _plan(amount: Decimal, currency: str, description: str, item: str, account: str) -> Plan:
    return Plan(check_plan(amount, currency), description, item, account)


async def create_subscription(cmd: CreateSubscription, ports: ChangePorts) -> Subscription:
    """Validate and store a new subscription: the plan and schedule first (nothing asked of
    anyone), then the customer in the ERP and a payment method at the gateway."""
    plan = _plan(cmd.amount, cmd.currency, cmd.description, cmd.item, cmd.ledger_account)
    if ports.currency is not None and plan.amount.currency != ports.currency:
        raise InvalidSubscription(
            "plan.currency",
            f"plan.currency must be {ports.currency}, the currency the PayTrace account "
            f"charges in (not {plan.amount.currency})",
        )
    today = ports.clock.now().astimezone(zone(ports.timezone)).date()
    schedule = BillingSchedule(
        cmd.anchor or today, _interval(cmd), ports.timezone, cmd.end_date, cmd.max_periods
    )
    trialing = cmd.trial_end is not None and today < cmd.trial_end
    draft = Subscription(
        customer_account=cmd.customer_account,
        vault_customer_id=cmd.vault_customer_id or "(from the customer)",
        plan=plan,
        schedule=schedule,
        trial_end=cmd.trial_end,
        status=SubscriptionStatus.TRIALING if trialing else SubscriptionStatus.ACTIVE,
    )
    vault_id = await _payment_method(cmd.customer_account, cmd.vault_customer_id, ports)
    return await ports.store.add(replace(draft, vault_customer_id=vault_id), actor=cmd.actor)


async def _payment_method(account: str, vault_customer_id: str, ports: ChangePorts) -> str:
    on_customer = await ports.subscribers.gateway_customer(account)
    if on_customer is None:
        raise InvalidSubscription(
            "customer_account", f"customer_account {account!r} is no customer in D365"
        )
    chosen = vault_customer_id or on_customer
    if not chosen:
        raise InvalidSubscription(
            "vault_customer_id",
            f"customer {account} has no PayTrace customer on file; give vault_customer_id",
        )
    await _check_vault(chosen, ports)
    return chosen


async def _check_vault(vault_customer_id: str, ports: ChangePorts) -> None:
    if not await ports.subscribers.has_payment_method(vault_customer_id):
        raise InvalidSubscription(
            "vault_customer_id",
            f"vault_customer_id {vault_customer_id!r} keeps no card or bank account at PayTrace",
        )


async def _current(subscription_id: int, ports: ChangePorts) -> Subscription:
    found = await ports.store.get(subscription_id)
    if found is None:
        raise UnknownSubscription(f"no subscription {subscription_id}")
    return found


async def _apply(
    subscription_id: int,
    expected_version: int | None,
    change: Callable[[Subscription], Awaitable[tuple[Subscription, str, dict[str, Any]]]],
    actor: str,
    ports: ChangePorts,
) -> Subscription:
    """Read, ``change`` (returning the new state, audit action and detail) and store, again
    on a fresh read when the caller named no version and the store moved meanwhile."""
    for attempt in range(_RETRIES):
        current = await _current(subscription_id, ports)
        if expected_version is not None and current.version != expected_version:
            raise StaleSubscription(
                f"subscription {subscription_id} is at version {current.version}, "
                f"not {expected_version}; read it again"
            )
        changed, action, detail = await change(current)
        try:
            stored, _ = await ports.store.change(changed, actor=actor, action=action, detail=detail)
            return stored
        except StaleSubscription:
            if expected_version is not None or attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


async def pause_subscription(cmd: PauseSubscription, ports: ChangePorts) -> Subscription:
    async def change(s: Subscription) -> tuple[Subscription, str, dict[str, Any]]:
        return pause(s), "subscription.paused", {}

    return await _apply(cmd.subscription_id, cmd.expected_version, change, cmd.actor, ports)


async def resume_subscription(cmd: ResumeSubscription, ports: ChangePorts) -> Subscription:
    async def change(s: Subscription) -> tuple[Subscription, str, dict[str, Any]]:
        resumed = resume(s, ports.clock.now())
        return resumed, "subscription.resumed", {"next_period": resumed.next_period}

    return await _apply(cmd.subscription_id, cmd.expected_version, change, cmd.actor, ports)


async def cancel_subscription(cmd: CancelSubscription, ports: ChangePorts) -> Subscription:
    async def change(s: Subscription) -> tuple[Subscription, str, dict[str, Any]]:
        cancelled = cancel(s, ports.clock.now(), at_period_end=cmd.at_period_end)
        end = cancelled.schedule.end_date
        detail = {"at_period_end": cmd.at_period_end, "end_date": end.isoformat() if end else ""}
        return cancelled, "subscription.cancelled", detail

    return await _apply(cmd.subscription_id, cmd.expected_version, change, cmd.actor, ports)


async def replace_subscription_payment_method(
    cmd: ReplacePaymentMethod, ports: ChangePorts
) -> Subscription:
    async def change(s: Subscription) -> tuple[Subscription, str, dict[str, Any]]:
        await _check_vault(cmd.vault_customer_id, ports)
        replaced = replace_payment_method(s, cmd.vault_customer_id)
        detail = {"from": s.vault_customer_id, "to": cmd.vault_customer_id}
        return replaced, "subscription.payment_method_replaced", detail

    return await _apply(cmd.subscription_id, cmd.expected_version, change, cmd.actor, ports)


async def change_subscription_plan(cmd: ChangePlan, ports: ChangePorts) -> PlanChangeResult:
    """Move to the new plan now; prorate the period already billed (see the module rule)."""
    plan = _plan(cmd.amount, cmd.currency, cmd.description, cmd.item, cmd.ledger_account)
    for attempt in range(_RETRIES):
        current = await _current(cmd.subscription_id, ports)
        if cmd.expected_version is not None and current.version != cmd.expected_version:
            raise StaleSubscription(
                f"subscription {current.id} is at version {current.version}, "
                f"not {cmd.expected_version}; read it again"
            )
        history = await ports.store.entries(current.id)
        index = current.schedule.current_index(ports.clock.now())
        upgrades = max((e.entry for e in history if e.period.index == index), default=0)
        changed = change_plan(current, plan, ports.clock.now(), upgrades_so_far=upgrades)
        detail = _plan_detail(current.plan, plan, changed.proration)
        owner = ports.billing_command.owner if ports.billing else ""
        try:
            stored, entry = await ports.store.change(
                changed.subscription,
                actor=cmd.actor,
                action="subscription.plan_changed",
                detail=detail,
                entry=changed.upgrade,
                lease_owner=owner,
            )
        except StaleSubscription:
            if cmd.expected_version is not None or attempt == _RETRIES - 1:
                raise
            continue
        outcome = ""
        if entry is not None:
            outcome = "waiting"
            if ports.billing is not None:
                claimed = ClaimedEntry(entry, stored)
                report = BillingReport()
                outcome = await bill_entry(claimed, ports.billing_command, ports.billing, report)
                stored = await _current(stored.id, ports)
        return PlanChangeResult(stored, changed.proration, outcome)
    raise AssertionError("unreachable")


def _plan_detail(old: Plan, new: Plan, proration: Proration | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "from": f"{old.amount} {old.description}",
        "to": f"{new.amount} {new.description}",
    }
    if proration is not None:
        detail.update(
            days_left=proration.days_left,
            credit=str(proration.credit.amount),
            charge=str(proration.charge.amount),
        )
    return detail
