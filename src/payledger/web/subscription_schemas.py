"""Request and response bodies of ``/api/v1/subscriptions``.

The schema checks only how a value is written (an exact amount, a ``YYYY-MM-DD`` day, an
integer); what a value may be (more than 0, an ISO 4217 currency, an interval that fires, an
end after the start) is the domain's rule, answered as ``invalid_subscription`` naming the
field. A body never carries card data: a subscription is charged through a PayTrace vault
customer.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from payledger.domain.errors import DomainError
from payledger.domain.money import plain_amount
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import BillingEntry
from payledger.domain.subscriptions_changes import Proration
from payledger.views.subscriptions import SubscriptionRow
from payledger.web.inbound import MAX_AMOUNT

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)
"""The days a subscription's dates may fall on (a schedule's dates stay far from year 9999)."""
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _signed_amount(value: Any) -> Decimal:
    """An exact amount as written, a leading ``-`` allowed: whether it may be 0 or less, and
    how many decimals it may have, is the plan's rule (``plan.amount``)."""
    negative = isinstance(value, str) and value.startswith("-")
    try:
        amount = plain_amount(value[1:] if negative else value)
    except DomainError as exc:
        raise ValueError(str(exc)) from None
    if amount > MAX_AMOUNT:
        raise ValueError(f"an amount is at most {MAX_AMOUNT}")
    return -amount if negative else amount


def _day(value: Any) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError('a day is written "YYYY-MM-DD", e.g. "2026-04-01"')
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is no day of the calendar") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a day from {FIRST_DAY} to {LAST_DAY}")
    return day


PlanAmount = Annotated[
    Decimal,
    BeforeValidator(_signed_amount),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["49.90"]}),
]
Day = Annotated[date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
ErpId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
VaultCustomerId = Annotated[str, Field(max_length=50, pattern=r"^[A-Za-z0-9._@-]*$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanIn(_Body):
    amount: PlanAmount
    """The price of each period, e.g. ``"49.90"``: more than 0, no more decimals than the
    currency has."""
    currency: str = Field(max_length=8, description="ISO 4217 code, e.g. USD.")
    description: Text
    """The invoice line's text, e.g. ``Gold plan``."""
    item: ErpId = ""
    """An item number for the invoice line; else ``ledger_account``, else the revenue
    account (``[subscriptions] revenue_account``)."""
    ledger_account: ErpId = ""


class IntervalIn(_Body):
    unit: str = Field("month", max_length=20, description="day, week, month or year.")
    every: StrictInt = 1
    """Every how many units (1 to 1000)."""
    rule: str = Field("", max_length=100, description="A cron rule instead, e.g. 0 0 1,15 * *.")


class SubscriptionCreate(_Body):
    """A new subscription of a D365 customer, charged through a PayTrace vault customer."""

    customer_account: ErpId
    vault_customer_id: VaultCustomerId = ""
    """Default: the PayTrace customer the D365 customer carries."""
    plan: PlanIn
    interval: IntervalIn = Field(default_factory=IntervalIn)
    anchor: Day | None = None
    """The first day of the first period (default: today)."""
    trial_end: Day | None = None
    """Periods starting before this day are not charged."""
    end_date: Day | None = None
    """No period starts on or after this day."""
    max_periods: StrictInt | None = Field(None, le=100_000)


class SubscriptionChange(_Body):
    """One change: a new ``plan``; ``status`` ``paused``, ``active`` (resume) or
    ``cancelled``; ``cancel_at_period_end: true``; or a new ``vault_customer_id``."""

    plan: PlanIn | None = None
    status: Literal["paused", "active", "cancelled"] | None = None
    """``paused``: pause; ``active``: resume a paused one; ``cancelled``: cancel now."""
    cancel_at_period_end: StrictBool | None = None
    """``true``: the period running now is the last."""
    vault_customer_id: str | None = Field(
        None, min_length=1, max_length=50, pattern=r"^[A-Za-z0-9._@-]+$"
    )
    version: StrictInt | None = None
    """The version the change is made from (as ``If-Match``): 412 when it moved."""

    @model_validator(mode="after")
    def _one_change(self) -> Self:
        given = [
            name
            for name in ("plan", "status", "cancel_at_period_end", "vault_customer_id")
            if getattr(self, name) is not None
        ]
        if self.cancel_at_period_end is False:
            raise ValueError("cancel_at_period_end can only be set (true); a cancellation stays")
        if len(given) != 1:
            raise ValueError(
                "give exactly one of plan, status, cancel_at_period_end and vault_customer_id"
            )
        return self


class PlanPublic(BaseModel):
    amount: Decimal
    currency: str
    description: str
    item: str
    ledger_account: str


class IntervalPublic(BaseModel):
    unit: str
    every: int
    rule: str


class PeriodPublic(BaseModel):
    """One billing entry: a period, or a proration (``entry`` 1, 2, ...) of one."""

    index: int
    entry: int
    kind: str
    starts_on: date
    ends_on: date
    """The first day of the next period (exclusive)."""
    amount: Decimal
    currency: str
    status: str
    invoice_number: str
    paytrace_transaction_id: str
    attempts: int
    error: str

    @classmethod
    def of(cls, entry: BillingEntry) -> PeriodPublic:
        return cls(
            index=entry.period.index,
            entry=entry.entry,
            kind=entry.kind.value,
            starts_on=entry.period.starts_on,
            ends_on=entry.period.ends_on,
            amount=entry.total.amount,
            currency=entry.total.currency,
            status=entry.status.value,
            invoice_number=entry.invoice_number,
            paytrace_transaction_id=entry.gateway_txn_id,
            attempts=entry.attempts,
            error=entry.error,
        )


class SubscriptionPublic(BaseModel):
    """A subscription as it stands, with its billing history."""

    id: int
    customer_account: str
    vault_customer_id: str
    plan: PlanPublic
    interval: IntervalPublic
    anchor: date
    timezone: str
    trial_end: date | None
    end_date: date | None
    max_periods: int | None
    status: SubscriptionStatus
    cancel_at_period_end: bool
    credit: Decimal
    """Owed to the customer by downgrades, taken off the next invoices."""
    next_charge_at: datetime | None
    version: int
    """Send it back as ``If-Match`` (or ``version``) to change this state only."""
    created_at: datetime | None
    periods: list[PeriodPublic]

    @classmethod
    def of(cls, s: Subscription, history: list[BillingEntry], **extra: Any) -> Self:
        plan, schedule = s.plan, s.schedule
        return cls(
            id=s.id,
            customer_account=s.customer_account,
            vault_customer_id=s.vault_customer_id,
            plan=PlanPublic(
                amount=plan.amount.amount,
                currency=plan.amount.currency,
                description=plan.description,
                item=plan.item,
                ledger_account=plan.ledger_account,
            ),
            interval=IntervalPublic(
                unit=schedule.interval.unit.value,
                every=schedule.interval.every,
                rule=schedule.interval.rule,
            ),
            anchor=schedule.anchor,
            timezone=schedule.timezone,
            trial_end=s.trial_end,
            end_date=schedule.end_date,
            max_periods=schedule.max_periods,
            status=s.status,
            cancel_at_period_end=s.cancel_at_period_end,
            credit=s.credit,
            next_charge_at=s.next_due(),
            version=s.version,
            created_at=s.created_at,
            periods=[PeriodPublic.of(entry) for entry in history],
            **extra,
        )


class ProrationPublic(BaseModel):
    """What a plan change during a billed period came to (``docs/subscriptions.md``)."""

    days_left: int
    days_in_period: int
    credit: Decimal
    """The unused days at the old price."""
    charge: Decimal
    """The same days at the new price."""
    difference: Decimal
    """Positive: invoiced and charged now; negative: credited on the next invoices."""
    upgrade_charge: str
    """The upgrade's charge: ``charged``, ``declined``, ``failed``, ``waiting`` (for the
    next billing run), or "" for a downgrade."""

    @classmethod
    def of(cls, proration: Proration, outcome: str) -> ProrationPublic:
        return cls(
            days_left=proration.days_left,
            days_in_period=proration.period.days,
            credit=proration.credit.amount,
            charge=proration.charge.amount,
            difference=proration.difference.amount,
            upgrade_charge=outcome,
        )


class SubscriptionChanged(SubscriptionPublic):
    proration: ProrationPublic | None = None
    """Set when a plan change was prorated."""


class SubscriptionSummary(BaseModel):
    id: int
    customer_account: str
    status: str
    amount: Decimal
    currency: str
    description: str
    next_charge_at: datetime | None
    cancel_at_period_end: bool
    version: int
    created_at: datetime

    @classmethod
    def of(cls, row: SubscriptionRow) -> SubscriptionSummary:
        return cls(**vars(row))


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionSummary]
    next_after: int | None
    """Pass as ``after`` for the next page; null on the last one."""
