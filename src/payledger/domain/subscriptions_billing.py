"""What a billing run claims: the periods due at a moment, each billed once, as entries.

An entry is one invoice-and-charge of a subscription: a period (``entry`` 0) or a proration
of that period (``entry`` 1, 2, ... for each upgrade in it). Its lines are fixed when it is
claimed (the plan's price, less any credit carried from downgrades), so every retry issues
the same invoice under the same key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from payledger.domain.money import Money
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.domain.subscriptions_periods import Period

CatchUp = Literal["all", "latest"]


class EntryStatus(StrEnum):
    PLANNED = "planned"
    """Claimed: its invoice is being created and posted."""
    INVOICED = "invoiced"
    """The invoice is posted (its number known): it is being charged."""
    CHARGED = "charged"
    DECLINED = "declined"
    FAILED = "failed"
    """Not charged, and retrying will not help (e.g. the card on file is gone); see error."""
    REJECTED = "rejected"
    """Never charged: an operator rejected the charge in the risk review; see error."""
    SKIPPED = "skipped"
    """Not billed: missed while payledger was down (``catch_up = "latest"``) or nothing owed."""
    GATEWAY_PAID = "gateway_paid"
    """Charged by the gateway's own recurring schedule (an imported subscription not taken
    over yet): payledger neither invoiced nor charged it."""


UNFINISHED = frozenset({EntryStatus.PLANNED, EntryStatus.INVOICED})


class EntryKind(StrEnum):
    PERIOD = "period"
    PRORATION = "proration"


@dataclass(frozen=True)
class ChargeLine:
    description: str
    amount: Money


@dataclass(frozen=True)
class NewEntry:
    """An entry to claim."""

    period: Period
    lines: tuple[ChargeLine, ...]
    entry: int = 0
    status: EntryStatus = EntryStatus.PLANNED

    @property
    def kind(self) -> EntryKind:
        return EntryKind.PERIOD if self.entry == 0 else EntryKind.PRORATION

    def invoice_key(self, subscription_id: int) -> str:
        """The invoice's key in the ERP: ``SUB-12-P3``, or ``SUB-12-P3-U1`` for a proration."""
        upgrade = f"-U{self.entry}" if self.entry else ""
        return f"SUB-{subscription_id}-P{self.period.index}{upgrade}"


@dataclass(frozen=True)
class BillingEntry:
    """A claimed entry as stored, with how far it got."""

    id: int
    subscription_id: int
    period: Period
    entry: int
    status: EntryStatus
    lines: tuple[ChargeLine, ...]
    invoice_key: str
    claimed_at: datetime
    invoice_number: str = ""
    gateway_txn_id: str = ""
    attempts: int = 0
    error: str = ""
    charge_started: bool = False
    """A charge was started (the gateway may have acted): look for it before charging."""

    @property
    def total(self) -> Money:
        return sum((line.amount for line in self.lines[1:]), self.lines[0].amount)

    @property
    def kind(self) -> EntryKind:
        return EntryKind.PERIOD if self.entry == 0 else EntryKind.PRORATION


@dataclass(frozen=True)
class Claim:
    """What claiming a due subscription changes: the subscription as it is then, the entries
    to bill and those recorded as skipped."""

    subscription: Subscription
    bill: tuple[NewEntry, ...] = ()
    skip: tuple[NewEntry, ...] = ()

    @property
    def entries(self) -> tuple[NewEntry, ...]:
        return self.skip + self.bill


def period_lines(
    subscription: Subscription, period: Period, credit: Decimal
) -> tuple[tuple[ChargeLine, ...], Decimal]:
    """The invoice lines of ``period`` with up to its price of ``credit`` taken off, and the
    credit left over."""
    price = subscription.plan.amount
    lines: tuple[ChargeLine, ...] = (
        ChargeLine(f"{subscription.plan.description} {_span(period)}", price),
    )
    used = min(credit, price.amount)
    if used > 0:
        lines += (ChargeLine("Credit carried from a plan change", Money(-used, price.currency)),)
    return lines, credit - used


def _span(period: Period) -> str:
    last = date.fromordinal(period.ends_on.toordinal() - 1) if period.days else period.ends_on
    return f"{period.starts_on.isoformat()} to {last.isoformat()}"


def claim_due(
    subscription: Subscription, now: datetime, catch_up: CatchUp, *, most: int = 100
) -> Claim:
    """The periods of ``subscription`` due at ``now`` and not claimed yet (at most ``most``
    billed: the rest are claimed by the next run), trial periods passed over.

    With ``catch_up = "latest"``, only the latest due period is billed and the earlier ones
    are recorded as skipped. When no period is left and the last is over, the subscription
    ends (``cancelled`` if it was cancelled at the period's end)."""
    schedule = subscription.schedule
    current = schedule.current_index(now)
    index, due = subscription.next_period, list[Period]()
    while index <= current and len(due) < most:
        period = schedule.period(index)
        if period is None:
            break
        if not subscription.is_trial(period):
            due.append(period)
        index += 1
    skipped = due[:-1] if catch_up == "latest" else []
    billed = due[-1:] if catch_up == "latest" else due
    credit, bill = subscription.credit, list[NewEntry]()
    for period in billed:
        lines, credit = period_lines(subscription, period, credit)
        bill.append(NewEntry(period, lines))
    skip = [NewEntry(p, (), status=EntryStatus.SKIPPED) for p in skipped]
    after = replace(subscription, next_period=index, credit=credit)
    if not schedule.exists(index) and schedule.due_at(index) <= now:
        ended = SubscriptionStatus.CANCELLED if after.cancel_at_period_end else "ended"
        after = replace(after, status=SubscriptionStatus(ended))
    return Claim(after, tuple(bill), tuple(skip))


def status_after(current: SubscriptionStatus, outcome: EntryStatus) -> SubscriptionStatus | None:
    """The subscription's status after an entry's charge ends in ``outcome`` (None: keep it).

    Only a subscription being billed moves: one paused or cancelled meanwhile stays so."""
    if current not in (
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
    ):
        return None
    if outcome is EntryStatus.CHARGED:
        return SubscriptionStatus.ACTIVE
    if outcome in (EntryStatus.DECLINED, EntryStatus.FAILED):
        return SubscriptionStatus.PAST_DUE
    return None
