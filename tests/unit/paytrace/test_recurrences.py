"""PayTrace recurrences as the import sees them: frequency codes, counts and refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payledger.adapters.paytrace import PayTraceRecurrence
from payledger.adapters.paytrace.recurrences import schedule_from_recurrence
from payledger.domain.subscriptions_periods import Interval, IntervalUnit
from payledger.sandbox.paytrace.recurring import (
    DAYS_BETWEEN,
    FIRST_AND_FIFTEENTH,
    MONTHS_BETWEEN,
)


def recurrence(**values) -> PayTraceRecurrence:
    base = {
        "id": 51001, "customer_id": "cust-a", "amount": Decimal("30.00"), "frequency": "3",
        "start_date": "01/31/2026", "next_date": "03/31/2026", "total_count": 999,
        "current_count": 2, "transaction_type": "sale", "description": "Gold plan",
        "status": "ACTIVE",
    }  # fmt: skip
    return PayTraceRecurrence.model_validate({**base, **values})


@pytest.mark.parametrize(
    ("code", "interval"),
    [
        ("1", Interval(IntervalUnit.YEAR, 1)),
        ("8", Interval(IntervalUnit.MONTH, 6)),
        ("A", Interval(IntervalUnit.MONTH, 4)),
        ("2", Interval(IntervalUnit.MONTH, 3)),
        ("9", Interval(IntervalUnit.MONTH, 2)),
        ("3", Interval(IntervalUnit.MONTH, 1)),
        ("4", Interval(IntervalUnit.WEEK, 2)),
        ("5", Interval(IntervalUnit.WEEK, 1)),
        ("6", Interval(IntervalUnit.DAY, 1)),
        ("7", Interval(rule="0 0 1,15 * *")),
    ],
)
def test_each_frequency_code_becomes_the_same_interval(code, interval):
    assert schedule_from_recurrence(recurrence(frequency=code), "USD").interval == interval


def test_every_code_the_sandbox_knows_is_mapped():
    codes = {*MONTHS_BETWEEN, *DAYS_BETWEEN, FIRST_AND_FIFTEENTH}
    assert all(schedule_from_recurrence(recurrence(frequency=c), "USD").interval for c in codes)


def test_dates_amount_and_count_are_read():
    found = schedule_from_recurrence(recurrence(total_count=12), "USD")
    assert (found.id, found.vault_customer_id, str(found.amount.amount)) == (
        "51001",
        "cust-a",
        "30.00",
    )
    assert (found.starts_on, found.next_on, found.runs, found.active) == (
        date(2026, 1, 31),
        date(2026, 3, 31),
        12,
        True,
    )
    assert schedule_from_recurrence(recurrence(), "USD").runs is None  # 999: until stopped
    assert not schedule_from_recurrence(recurrence(status="INACTIVE"), "USD").active


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"frequency": "Z"}, "PayTrace frequency code 'Z' is not one payledger knows"),
        ({"transaction_type": "authorization"}, "payledger bills sales only"),
        ({"start_date": "2026-01-31"}, "is not MM/DD/YYYY"),
    ],
)
def test_what_cannot_be_billed_says_why(values, reason):
    found = schedule_from_recurrence(recurrence(**values), "USD")
    assert found.interval is None and reason in found.refusal
