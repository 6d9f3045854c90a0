"""Import the gateway's own recurring schedules as payledger subscriptions, and take them over.

Each schedule becomes a subscription of the ERP customer that carries its gateway customer
id, counted from the schedule's first run (so months clamp as the gateway clamps them) and
billed from its **next** run: the periods the gateway already charged are never billed again.
The subscription remembers the schedule, so importing again finds it instead of creating a
second one.

Taking over (``take_over``) is three steps, in this order, each safe to cut off:

1. the subscription is stored while the gateway's schedule still bills it
   (``billed_by_gateway``): payledger does not bill it, the gateway does;
2. the schedule is deleted at the gateway; its next run as it stood then is the first
   period nobody has charged;
3. the subscription is marked taken over from that period: payledger bills it from then on.

Cut off after 1, both are as before (only the gateway charges); after 2, nobody charges until
the import runs again with ``take_over`` and finishes step 3. Never both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from payledger.domain.subscriptions import Plan, Subscription, check_plan
from payledger.domain.subscriptions_periods import BillingSchedule, InvalidSubscription
from payledger.flows.ports import (
    CustomerDirectory,
    GatewaySchedule,
    GatewaySchedules,
    ImportedSubscriptions,
)

_DESCRIPTION_MAX = 200


@dataclass(frozen=True)
class ImportSchedules:
    timezone: str
    """The calendar the gateway's run dates are in (PayTrace: ``[paytrace] timezone``)."""
    take_over: bool = False
    """Delete each imported schedule at the gateway; payledger bills its periods from then."""
    dry_run: bool = False
    """Change nothing anywhere; report what would be done."""
    actor: str = "cli"


@dataclass(frozen=True)
class ImportPorts:
    schedules: GatewaySchedules
    customers: CustomerDirectory
    store: ImportedSubscriptions


class ImportOutcome(StrEnum):
    IMPORTED = "imported"
    ALREADY = "already imported"
    TAKEN_OVER = "taken over"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ImportRow:
    schedule_id: str
    vault_customer_id: str
    outcome: ImportOutcome
    detail: str = ""
    subscription_id: int = 0


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    dry_run: bool = False

    def count(self, outcome: ImportOutcome) -> int:
        return sum(1 for row in self.rows if row.outcome is outcome)


def first_period_from(schedule: BillingSchedule, day: date) -> int:
    """The index of the first period starting on or after ``day``."""
    index = max(schedule.current_index(schedule.midnight(day)), 0)
    start = schedule.start(index)
    return index if start is not None and start >= day else index + 1


def subscription_for(
    found: GatewaySchedule, account: str, timezone: str
) -> tuple[Subscription | None, str]:
    """The subscription ``found`` becomes (billed by the gateway still), or why it cannot."""
    if found.refusal or found.interval is None:
        return None, found.refusal or "its frequency cannot be billed by payledger"
    if found.next_on is None:
        return None, "it has no next run"
    try:
        money = check_plan(found.amount.amount, found.amount.currency)
        schedule = BillingSchedule(
            found.starts_on, found.interval, timezone, max_periods=found.runs
        )
        next_period = first_period_from(schedule, found.next_on)
        if not schedule.exists(next_period):
            return None, "its last run is done"
        subscription = Subscription(
            customer_account=account,
            vault_customer_id=found.vault_customer_id,
            plan=Plan(money, found.description[:_DESCRIPTION_MAX]),
            schedule=schedule,
            next_period=next_period,
            gateway_schedule_id=found.id,
            billed_by_gateway=True,
        )
    except InvalidSubscription as exc:
        return None, f"{exc.field}: {exc}"
    return subscription, ""


async def import_schedules(cmd: ImportSchedules, ports: ImportPorts) -> ImportReport:
    """Import every schedule the gateway exports (and take each over when asked)."""
    report = ImportReport(dry_run=cmd.dry_run)
    accounts = await _accounts_by_gateway_id(ports.customers)
    for found in await ports.schedules.schedules():
        report.rows.append(await _one(found, accounts, cmd, ports))
    return report


async def _accounts_by_gateway_id(customers: CustomerDirectory) -> dict[str, list[str]]:
    accounts: dict[str, list[str]] = {}
    for customer in await customers.customers_in_scope():
        if customer.gateway_id:
            accounts.setdefault(customer.gateway_id, []).append(customer.account)
    return accounts


async def _one(
    found: GatewaySchedule,
    accounts: dict[str, list[str]],
    cmd: ImportSchedules,
    ports: ImportPorts,
) -> ImportRow:
    def row(outcome: ImportOutcome, detail: str, subscription_id: int = 0) -> ImportRow:
        return ImportRow(found.id, found.vault_customer_id, outcome, detail, subscription_id)

    existing = await ports.store.by_schedule(found.id)
    if existing is not None and not existing.billed_by_gateway:
        return row(ImportOutcome.ALREADY, "taken over before", existing.id)
    if existing is None:
        if not found.active:
            return row(ImportOutcome.SKIPPED, "the schedule no longer runs at the gateway")
        owners = accounts.get(found.vault_customer_id, [])
        if len(owners) != 1:
            why = "no ERP customer carries" if not owners else f"{len(owners)} ERP customers carry"
            return row(ImportOutcome.SKIPPED, f"{why} gateway customer {found.vault_customer_id!r}")
        subscription, why_not = subscription_for(found, owners[0], cmd.timezone)
        if subscription is None:
            return row(ImportOutcome.SKIPPED, why_not)
        if cmd.dry_run:
            outcome = ImportOutcome.TAKEN_OVER if cmd.take_over else ImportOutcome.IMPORTED
            return row(outcome, f"dry run: would bill {owners[0]} from {_next(subscription)}")
        detail = {"schedule": found.id, "next_period": subscription.next_period}
        added = await ports.store.add_imported(subscription, actor=cmd.actor, detail=detail)
        existing = added or await ports.store.by_schedule(found.id)  # None: a race, lost
        assert existing is not None
        if added is None or not cmd.take_over:
            outcome = ImportOutcome.IMPORTED if added else ImportOutcome.ALREADY
            return row(
                outcome, f"the gateway bills it until taken over; {_next(existing)}", existing.id
            )
    elif not cmd.take_over:
        hint = "" if found.active else "; its schedule no longer runs: take it over"
        return row(ImportOutcome.ALREADY, f"the gateway bills it{hint}", existing.id)
    if cmd.dry_run:
        return row(ImportOutcome.TAKEN_OVER, "dry run: would delete the schedule", existing.id)
    taken = await _take_over(existing, found, cmd, ports)
    return row(ImportOutcome.TAKEN_OVER, f"payledger bills it from {_next(taken)}", taken.id)


async def _take_over(
    subscription: Subscription, found: GatewaySchedule, cmd: ImportSchedules, ports: ImportPorts
) -> Subscription:
    """Steps 2 and 3 of the module docstring."""
    stopped = await ports.schedules.stop(found.id)
    next_on = (stopped.next_on if stopped else None) or found.next_on
    next_period = (
        first_period_from(subscription.schedule, next_on)
        if next_on is not None
        else subscription.next_period
    )
    return await ports.store.take_over(subscription.id, next_period=next_period, actor=cmd.actor)


def _next(subscription: Subscription) -> str:
    period = subscription.schedule.period(subscription.next_period)
    return f"period {subscription.next_period} ({period.starts_on})" if period else "no period"
