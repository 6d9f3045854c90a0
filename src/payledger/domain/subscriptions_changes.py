"""Changes to a subscription mid-period: plan (with proration), pause, resume, cancel.

Proration rule (``docs/subscriptions.md``): when the plan changes during a period that was
already billed, the days from the day of the change (included, in the subscription's zone) to
the period's end are credited at the old price and charged at the new one, each
``price * days_left / days_in_period`` rounded half to even to the currency's minor unit. An
upgrade's difference is invoiced and charged at once as its own proration entry; a
downgrade's difference is credited on the next invoices as a negative line, never refunded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from payledger.domain.errors import DomainError
from payledger.domain.money import Money
from payledger.domain.subscriptions import FINISHED, Plan, Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import ChargeLine, NewEntry
from payledger.domain.subscriptions_periods import InvalidSubscription, Period


class ChangeRefused(DomainError):
    """The subscription's status does not allow this change (e.g. resuming a cancelled one)."""


@dataclass(frozen=True)
class Proration:
    period: Period
    days_left: int
    credit: Money
    """The unused days at the old price."""
    charge: Money
    """The same days at the new price."""

    @property
    def difference(self) -> Money:
        """Positive: owed by the customer (upgrade); negative: owed to them (downgrade)."""
        return self.charge - self.credit

    def lines(self, old: Plan, new: Plan) -> tuple[ChargeLine, ...]:
        days = f"{self.days_left} of {self.period.days} days"
        return (
            ChargeLine(f"Unused time on {old.description} ({days})", -self.credit),
            ChargeLine(f"Remaining time on {new.description} ({days})", self.charge),
        )


def prorate(period: Period, day: date, old: Money, new: Money) -> Proration:
    """The proration of a change from ``old`` to ``new`` on ``day`` within ``period``."""
    _same_currency(old, new)
    left = max(0, min(period.days, (period.ends_on - max(day, period.starts_on)).days))
    share = Decimal(left) / Decimal(period.days)
    return Proration(
        period,
        left,
        Money(old.amount * share, old.currency),
        Money(new.amount * share, new.currency),
    )


@dataclass(frozen=True)
class PlanChanged:
    subscription: Subscription
    proration: Proration | None = None
    """None when the current period was not billed yet (nothing to prorate)."""
    upgrade: NewEntry | None = None
    """The proration entry to invoice and charge now (an upgrade)."""


def change_plan(
    subscription: Subscription, plan: Plan, now: datetime, *, upgrades_so_far: int
) -> PlanChanged:
    """``subscription`` on ``plan`` from ``now``, prorated when the current period was billed
    (``upgrades_so_far``: proration entries that period already has)."""
    _refuse_when_finished(subscription, "change the plan of")
    schedule = subscription.schedule
    index = schedule.current_index(now)
    period = schedule.period(index)
    changed = replace(subscription, plan=plan)
    if period is None or index >= subscription.next_period or subscription.is_trial(period):
        _same_currency(subscription.plan.amount, plan.amount)
        return PlanChanged(changed)
    proration = prorate(period, schedule.local_date(now), subscription.plan.amount, plan.amount)
    difference = proration.difference
    if difference.is_positive:
        lines = proration.lines(subscription.plan, plan)
        return PlanChanged(changed, proration, NewEntry(period, lines, entry=upgrades_so_far + 1))
    credit = subscription.credit - difference.amount
    return PlanChanged(replace(changed, credit=credit), proration)


def pause(subscription: Subscription) -> Subscription:
    """Stop billing; periods starting while paused are skipped, never billed later."""
    if subscription.status is SubscriptionStatus.PAUSED:
        return subscription
    _refuse_when_finished(subscription, "pause")
    return replace(subscription, status=SubscriptionStatus.PAUSED)


def resume(subscription: Subscription, now: datetime) -> Subscription:
    """Bill again from the next period that starts after ``now`` (the one running now
    started while paused: it is skipped)."""
    if subscription.status is not SubscriptionStatus.PAUSED:
        raise ChangeRefused(
            f"only a paused subscription resumes; this one is {subscription.status}"
        )
    schedule = subscription.schedule
    first = max(subscription.next_period, schedule.current_index(now) + 1)
    in_trial = (
        subscription.trial_end is not None and schedule.local_date(now) < subscription.trial_end
    )
    status = SubscriptionStatus.TRIALING if in_trial else SubscriptionStatus.ACTIVE
    return replace(subscription, status=status, next_period=first)


def cancel(subscription: Subscription, now: datetime, *, at_period_end: bool) -> Subscription:
    """Cancel now (no more periods) or at the end of the period running at ``now``."""
    _refuse_when_finished(subscription, "cancel")
    if not at_period_end:
        return replace(subscription, status=SubscriptionStatus.CANCELLED)
    schedule = subscription.schedule
    ends = schedule.start(schedule.current_index(now) + 1)
    if schedule.end_date is not None and ends is not None:
        ends = min(ends, schedule.end_date)
    ends = ends or schedule.end_date
    cut = replace(schedule, end_date=ends) if ends and ends > schedule.anchor else None
    if cut is None:  # nothing started yet: no period at all
        return replace(subscription, status=SubscriptionStatus.CANCELLED)
    return replace(subscription, schedule=cut, cancel_at_period_end=True)


def replace_payment_method(subscription: Subscription, vault_customer_id: str) -> Subscription:
    """Charge ``vault_customer_id`` from the next charge on."""
    _refuse_when_finished(subscription, "change the payment method of")
    return replace(subscription, vault_customer_id=vault_customer_id)


def _same_currency(old: Money, new: Money) -> None:
    if old.currency != new.currency:
        raise InvalidSubscription(
            "plan.currency", f"plan.currency cannot change ({old.currency} to {new.currency})"
        )


def _refuse_when_finished(subscription: Subscription, what: str) -> None:
    if subscription.status in FINISHED:
        raise ChangeRefused(f"cannot {what} a subscription that is {subscription.status}")
