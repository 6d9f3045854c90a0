"""Subscriptions owned by payledger: a customer, a plan and the schedule it is billed on.

The customer is a D365 customer account charged through a PayTrace vault customer (a card or
bank account on file). Periods and their dates are in :mod:`.subscriptions_periods`, what a
billing run claims in :mod:`.subscriptions_billing`, changes with proration in
:mod:`.subscriptions_changes`. See ``docs/subscriptions.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from payledger.domain.erp_keys import InvalidErpValue, check_erp_id
from payledger.domain.errors import DomainError
from payledger.domain.money import Money, decimal_places, minor_units
from payledger.domain.subscriptions_periods import (
    BillingSchedule,
    Interval,
    IntervalUnit,
    InvalidSubscription,
    Period,
)

# ISO 4217 active codes (2024), funds and precious metals left out.
_ISO_4217 = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
"""
KNOWN_CURRENCIES = frozenset(_ISO_4217.split())


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    """In its trial: periods starting before ``trial_end`` are not charged."""
    ACTIVE = "active"
    PAST_DUE = "past_due"
    """The last charge was declined or failed (dunning picks it up)."""
    PAUSED = "paused"
    """Nothing is billed; periods starting while paused are skipped, not billed later."""
    CANCELLED = "cancelled"
    ENDED = "ended"
    """Its last period (end date or count) is over."""


BILLED = frozenset(
    {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE}
)
"""The statuses whose periods a billing run bills."""
FINISHED = frozenset({SubscriptionStatus.CANCELLED, SubscriptionStatus.ENDED})


@dataclass(frozen=True)
class Plan:
    """What each period costs and how its invoice line is booked."""

    amount: Money
    description: str
    item: str = ""
    """An item number for the invoice line; else ``ledger_account`` (or the revenue account)."""
    ledger_account: str = ""

    def __post_init__(self) -> None:
        check_plan(self.amount.amount, self.amount.currency)
        if not self.description.strip():
            raise InvalidSubscription("plan.description", "plan.description must not be empty")
        for name in ("item", "ledger_account"):
            value = getattr(self, name)
            if value:
                _erp_id(f"plan.{name}", value)


def check_plan(amount: Decimal, currency: str) -> Money:
    """``amount`` in ``currency`` as a plan price, or :class:`InvalidSubscription` naming
    ``plan.currency`` or ``plan.amount``."""
    if currency not in KNOWN_CURRENCIES:
        raise InvalidSubscription(
            "plan.currency", f"plan.currency {currency!r} is not an ISO 4217 currency"
        )
    if not amount.is_finite() or amount <= 0:
        raise InvalidSubscription("plan.amount", "plan.amount must be more than 0")
    places = minor_units(currency)
    if decimal_places(amount) > places:
        raise InvalidSubscription(
            "plan.amount", f"plan.amount has more than the {places} decimals {currency} has"
        )
    return Money(amount, currency)


def _erp_id(name: str, value: str) -> None:
    try:
        check_erp_id(name, value)
    except InvalidErpValue as exc:
        raise InvalidSubscription(name, str(exc)) from None


@dataclass(frozen=True)
class Subscription:
    """One customer's subscription to a plan, as stored (``id`` 0 until stored)."""

    customer_account: str
    vault_customer_id: str
    plan: Plan
    schedule: BillingSchedule
    trial_end: date | None = None
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    cancel_at_period_end: bool = False
    next_period: int = 0
    """The first period not claimed by a billing run yet."""
    credit: Decimal = Decimal(0)
    """Owed to the customer (downgrades), taken off the next invoices as a negative line."""
    id: int = 0
    version: int = 0
    """Bumped by every stored change; a change made from an older version is refused."""
    created_at: datetime | None = None
    gateway_schedule_id: str = ""
    """The gateway's own recurring schedule this subscription was imported from ("" if none)."""
    billed_by_gateway: bool = False
    """That schedule still charges the periods (imported, not taken over): payledger records
    them as paid by it and never bills them itself."""

    def __post_init__(self) -> None:
        _erp_id("customer_account", self.customer_account)
        if not self.vault_customer_id.strip():
            raise InvalidSubscription("vault_customer_id", "vault_customer_id must not be empty")
        if self.trial_end is not None and self.trial_end <= self.schedule.anchor:
            raise InvalidSubscription(
                "trial_end", f"trial_end {self.trial_end} must be after the anchor"
            )
        if self.credit < 0:
            raise DomainError("a subscription's credit is never negative")

    @property
    def key(self) -> str:
        return f"SUB-{self.id}"

    @property
    def currency(self) -> str:
        return self.plan.amount.currency

    def is_trial(self, period: Period) -> bool:
        return self.trial_end is not None and period.starts_on < self.trial_end

    def next_due(self) -> datetime | None:
        """When a billing run next has work here: the first unclaimed billable period is due,
        or (none left) the last period is over and the subscription ends. None when it is
        paused or finished, or while the gateway's own schedule bills it."""
        if self.status not in BILLED or self.billed_by_gateway:
            return None
        index = self.next_period
        while (period := self.schedule.period(index)) is not None:
            if not self.is_trial(period):
                return self.schedule.due_at(index)
            index += 1
        return self.schedule.due_at(index)


__all__ = [
    "BILLED",
    "FINISHED",
    "KNOWN_CURRENCIES",
    "BillingSchedule",
    "Interval",
    "IntervalUnit",
    "InvalidSubscription",
    "Period",
    "Plan",
    "Subscription",
    "SubscriptionStatus",
    "check_plan",
]
