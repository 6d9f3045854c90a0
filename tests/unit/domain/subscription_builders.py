"""Subscriptions for the specs: monthly, 30.00 USD, anchored on 2026-01-31 in Los Angeles."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from payledger.domain.money import Money
from payledger.domain.subscriptions import Plan, Subscription
from payledger.domain.subscriptions_periods import BillingSchedule, Interval, IntervalUnit

LA = "America/Los_Angeles"


def plan(amount: str = "30.00", description: str = "Gold plan", currency: str = "USD") -> Plan:
    return Plan(Money(Decimal(amount), currency), description)


def subscription(
    *,
    anchor: date = date(2026, 1, 31),
    unit: IntervalUnit = IntervalUnit.MONTH,
    every: int = 1,
    end_date: date | None = None,
    max_periods: int | None = None,
    **kw: Any,
) -> Subscription:
    kw.setdefault("plan", plan())
    kw.setdefault("customer_account", "US-001")
    kw.setdefault("vault_customer_id", "cust-1")
    return Subscription(
        schedule=BillingSchedule(
            anchor, Interval(unit, every), LA, end_date=end_date, max_periods=max_periods
        ),
        id=kw.pop("id", 7),
        **kw,
    )


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` in Los Angeles, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(LA)).astimezone(UTC)
