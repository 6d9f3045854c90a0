"""Cash at a glance: the money of today and of this week, by currency and payment method.

Days are the company's business days (``[d365] timezone``, the calendar a payment's journal
is chosen by); the week is the ISO week to date, Monday first. Each period shows, for the
money of its business days:

- **captured**: sales, captures and ACH sales, voided ones left out;
- **refunded**: refunds and ACH refunds, voided ones left out;
- **settled**: the net of the PayTrace settlement batches reconciliation saw close that day
  (its days are those of ``[paytrace] timezone``; checks are ACH, batches cards); in
  daily-summary mode, the net of the ``summary:<method>`` lines reconciliation owed for the
  batches (sales less refunds, like a per-payment batch's net, fees not deducted);
- **posted** / **unposted**: the net (payments less refunds and reversals) of the lines
  written to D365, in journals posted or not posted yet.

Both posting granularities are read, and added: per-payment lines (operations ``payment``,
``refund``, ``reversal``, ``removal``) and, in daily-summary mode, the payments' detail rows
(``summary_members``, kept from each payment's first event: captured and refunded by the
payment's business day, voided ones left out, ``ACH`` is ach and every card brand card) and
the ``summary:<method>`` lines (posted and unposted by the batch's settled day). They never
describe the same transaction: a batch's summary leaves out transactions with a per-payment
line, and a detail row of such a transaction is not counted here either. A batch's fee line
(``summary:FEE``) moves no customer money, so it is in neither posted nor unposted.

Every sum is taken by the database (``GROUP BY``) in integer minor units: amounts are stored
as fixed-scale text of their currency (``"12.50"``, ``"1200"`` in JPY), so removing the point
gives exact minor units on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from payledger.adapters.db.database import Database
from payledger.domain.model import aware_utc
from payledger.domain.money import Money, minor_units
from payledger.views.cash_sql import OldestJournal, oldest_unposted, tallies

FLOWS = ("captured", "refunded", "settled", "posted", "unposted")
PERIODS = ("today", "week")


def business_week(now: datetime, timezone: str) -> tuple[date, date]:
    """``(monday, today)``: today and the Monday of its ISO week, on ``timezone``'s calendar."""
    today = aware_utc(now).astimezone(ZoneInfo(timezone)).date()
    return today - timedelta(days=today.weekday()), today


@dataclass(frozen=True)
class CashRow:
    """One currency and payment method (``card``, ``ach``; ``unknown`` once its event is gone)."""

    currency: str
    method: str
    captured: Money
    refunded: Money
    settled: Money
    posted: Money
    unposted: Money

    @property
    def amounts(self) -> dict[str, Money]:
        """Flow name (:data:`FLOWS`) → amount."""
        return {flow: getattr(self, flow) for flow in FLOWS}


@dataclass(frozen=True)
class CashPeriod:
    name: str
    first_day: date
    last_day: date
    rows: tuple[CashRow, ...]


@dataclass(frozen=True)
class UnpostedJournal:
    """The oldest journal written to D365 and not posted yet."""

    batch_number: str
    business_day: str
    opened_at: datetime
    age_seconds: float
    amount: Money
    """Net of its lines."""


@dataclass(frozen=True)
class CashPicture:
    as_of: datetime
    timezone: str
    today: CashPeriod
    week: CashPeriod
    oldest_unposted: UnpostedJournal | None

    @property
    def periods(self) -> tuple[CashPeriod, CashPeriod]:
        return self.today, self.week


Key = tuple[str, str, str, str]
"""(business day, currency, method, flow)."""


async def cash_picture(
    database: Database, *, company: str, timezone: str, now: datetime
) -> CashPicture:
    """The cash of ``company`` for the day and the week ``now`` falls in."""
    monday, today = business_week(now, timezone)
    tally: dict[Key, int] = {}
    async with database.transaction() as conn:
        for day, currency, method, flow, minor in await tallies(conn, company, monday, today):
            _add(tally, (day, currency, method, flow), minor)
        oldest = await oldest_unposted(conn, company)
    return CashPicture(
        as_of=aware_utc(now),
        timezone=timezone,
        today=_period("today", today, today, tally),
        week=_period("week", monday, today, tally),
        oldest_unposted=None if oldest is None else _unposted(oldest, aware_utc(now)),
    )


def _unposted(oldest: OldestJournal, now: datetime) -> UnpostedJournal:
    return UnpostedJournal(
        batch_number=oldest.batch_number,
        business_day=oldest.business_day,
        opened_at=oldest.opened_at,
        age_seconds=max(0.0, (now - oldest.opened_at).total_seconds()),
        amount=_money(oldest.net_minor, oldest.currency),
    )


def _add(tally: dict[Key, int], key: Key, minor: int) -> None:
    tally[key] = tally.get(key, 0) + int(minor)


def _period(name: str, first: date, last: date, tally: Mapping[Key, int]) -> CashPeriod:
    days = {(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for (day, currency, method, flow), minor in tally.items():
        if day in days:
            flows = sums.setdefault((currency, method), {})
            flows[flow] = flows.get(flow, 0) + minor
    rows = tuple(
        CashRow(currency, method, **{f: _money(flows.get(f, 0), currency) for f in FLOWS})
        for (currency, method), flows in sorted(sums.items())
    )
    return CashPeriod(name, first, last, rows)


def _money(minor: int, currency: str) -> Money:
    return Money(Decimal(minor).scaleb(-minor_units(currency)), currency)
