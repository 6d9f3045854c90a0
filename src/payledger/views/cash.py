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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import inbox, journals, postings, recon_runs, summary_members
from payledger.domain.model import PaymentKind, aware_utc
from payledger.domain.money import Money, minor_units
from payledger.domain.posting import SUMMARY_OPERATION_PREFIX
from payledger.domain.summary import ACH, FEE

FLOWS = ("captured", "refunded", "settled", "posted", "unposted")
PERIODS = ("today", "week")
ACH_BATCH = "ACH"
"""The batch label reconciliation gives checks (ACH), which PayTrace settles without one."""
_ACH_KINDS = (PaymentKind.ACH_SALE.value, PaymentKind.ACH_REFUND.value)
_SUMMARY_ACH = f"{SUMMARY_OPERATION_PREFIX}{ACH}"
_SUMMARY_FEE = f"{SUMMARY_OPERATION_PREFIX}{FEE}"
_LONGEST_RUN = timedelta(days=31)
"""Reconciliation runs starting this long before the week are not read (bounds the query)."""


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
        for day, currency, method, flow, minor in await _money_moved(conn, company, monday, today):
            _add(tally, (day, currency, method, flow), minor)
        for day, currency, method, flow, minor in await _summary_members(
            conn, company, monday, today
        ):
            _add(tally, (day, currency, method, flow), minor)
        for day, currency, method, flow, minor in await _ledger_lines(conn, company, monday, today):
            _add(tally, (day, currency, method, flow), minor)
        for key, minor in (await _settled(conn, company, monday, today)).items():
            _add(tally, key, minor)
        for day, currency, method, flow, minor in await _summary_settled(
            conn, company, monday, today
        ):
            _add(tally, (day, currency, method, flow), minor)
        oldest = await _oldest_unposted(conn, company, aware_utc(now))
    return CashPicture(
        as_of=aware_utc(now),
        timezone=timezone,
        today=_period("today", today, today, tally),
        week=_period("week", monday, today, tally),
        oldest_unposted=oldest,
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


def _minor(amount: ColumnElement[Any]) -> ColumnElement[int]:
    return func.sum(cast(func.replace(amount, ".", ""), BigInteger))


def _method() -> ColumnElement[str]:
    """A line's method: a summary line's from its operation, a payment's from its event."""
    kind = inbox.c.payload["kind"].as_string()
    return case(
        (postings.c.operation == _SUMMARY_ACH, "ach"),
        (_is_summary(), "card"),
        (kind.in_(_ACH_KINDS), "ach"),
        (kind.is_(None), "unknown"),
        else_="card",
    )


def _is_summary() -> ColumnElement[bool]:
    return postings.c.operation.startswith(SUMMARY_OPERATION_PREFIX)


def _voided(*operations: str) -> ColumnElement[bool]:
    """A removal or reversal of the same transaction exists (its line was cancelled)."""
    other = postings.alias("cancelling")
    return (
        select(other.c.id)
        .where(
            other.c.gateway_txn_id == postings.c.gateway_txn_id,
            other.c.operation.in_(operations),
        )
        .exists()
    )


def _in_window(company: str, first: date, last: date) -> ColumnElement[bool]:
    return and_(
        postings.c.company == company,
        postings.c.business_day >= first.isoformat(),
        postings.c.business_day <= last.isoformat(),
    )


async def _money_moved(
    conn: AsyncConnection, company: str, first: date, last: date
) -> Iterable[tuple[str, str, str, str, int]]:
    """Captured and refunded: what the gateway took and gave back, written to D365 or not."""
    flow = case((postings.c.operation == "refund", "refunded"), else_="captured")
    method = _method()
    query = (
        select(
            postings.c.business_day, postings.c.currency, method, flow, _minor(postings.c.amount)
        )
        .select_from(postings.outerjoin(inbox, inbox.c.id == postings.c.inbox_id))
        .where(
            _in_window(company, first, last),
            postings.c.operation.in_(("payment", "refund")),
            postings.c.state != "cancelled",
            ~_voided("removal", "reversal"),
        )
        .group_by(postings.c.business_day, postings.c.currency, method, flow)
    )
    return [tuple(row) for row in await conn.execute(query)]


async def _summary_members(
    conn: AsyncConnection, company: str, first: date, last: date
) -> Iterable[tuple[str, str, str, str, int]]:
    """Captured and refunded in summary mode: the payments' detail rows, voided ones and those
    with a per-payment line (counted by :func:`_money_moved`) left out."""
    m = summary_members.c
    refund = m.kind == "refund"
    flow = case((refund, "refunded"), else_="captured")
    method = case((m.method == ACH, "ach"), else_="card")
    minor = cast(func.replace(m.amount, ".", ""), BigInteger)  # signed: refunds negative
    per_payment = (
        select(postings.c.id)
        .where(
            postings.c.gateway_txn_id == m.txn_id,
            postings.c.operation.in_(("payment", "refund")),
        )
        .exists()
    )
    query = (
        select(
            m.business_day, m.currency, method, flow, func.sum(case((refund, -minor), else_=minor))
        )
        .where(
            m.company == company,
            m.business_day >= first.isoformat(),
            m.business_day <= last.isoformat(),
            ~m.voided,
            ~per_payment,
        )
        .group_by(m.business_day, m.currency, method, flow)
    )
    return [tuple(row) for row in await conn.execute(query)]


def _signed_minor() -> ColumnElement[int]:
    """Payments count in, refunds and reversals out; a summary line carries its own sign."""
    minor = cast(func.replace(postings.c.amount, ".", ""), BigInteger)
    money_in = or_(postings.c.operation == "payment", _is_summary())
    return func.sum(case((money_in, minor), else_=-minor))


def _written_lines() -> ColumnElement[bool]:
    """Customer lines in D365 now: written, and not removed since (a reversal is a line of its
    own); a summary line for a method, not a batch's fee line."""
    removed = postings.alias("removed")
    return and_(
        postings.c.state == "posted",
        or_(
            postings.c.operation.in_(("payment", "refund", "reversal")),
            and_(_is_summary(), postings.c.operation != _SUMMARY_FEE),
        ),
        ~select(removed.c.id)
        .where(
            removed.c.gateway_txn_id == postings.c.gateway_txn_id,
            removed.c.operation == "removal",
            removed.c.state == "posted",
        )
        .exists(),
    )


async def _ledger_lines(
    conn: AsyncConnection, company: str, first: date, last: date
) -> Iterable[tuple[str, str, str, str, int]]:
    """Posted and unposted: the net of the lines in D365, by their journal's post state."""
    flow = case((journals.c.post_state == "posted", "posted"), else_="unposted")
    method = _method()
    query = (
        select(postings.c.business_day, postings.c.currency, method, flow, _signed_minor())
        .select_from(
            postings.join(
                journals,
                and_(
                    journals.c.company == postings.c.company,
                    journals.c.batch_number == postings.c.journal_batch_number,
                ),
            ).outerjoin(inbox, inbox.c.id == postings.c.inbox_id)
        )
        .where(_in_window(company, first, last), _written_lines())
        .group_by(postings.c.business_day, postings.c.currency, method, flow)
    )
    return [tuple(row) for row in await conn.execute(query)]


async def _settled(conn: AsyncConnection, company: str, first: date, last: date) -> dict[Key, int]:
    """Each batch settled in the window once, as the latest reconciliation run reported it."""
    query = (
        select(recon_runs.c.report[("totals", "by_batch")], recon_runs.c.report["granularity"])
        .where(
            recon_runs.c.company == company,
            recon_runs.c.first_day >= (first - _LONGEST_RUN).isoformat(),
            recon_runs.c.first_day <= last.isoformat(),
            recon_runs.c.last_day >= first.isoformat(),
            recon_runs.c.status == "done",
        )
        .order_by(recon_runs.c.id)
    )
    batches: dict[tuple[str, str], Mapping[str, str]] = {}
    for by_batch, granularity in await conn.execute(query):
        if granularity == "daily_summary":
            continue  # its batches' totals hold the fee line: read from the summary lines
        for batch in by_batch or ():
            settled = str(batch.get("settled") or "")
            if batch.get("batch") and first.isoformat() <= settled <= last.isoformat():
                batches[(str(batch["batch"]), settled)] = batch.get("paytrace") or {}
    tally: dict[Key, int] = {}
    for (number, settled), sums in batches.items():
        method = "ach" if number == ACH_BATCH else "card"
        for currency, text in sums.items():
            _add(tally, (settled, currency, method, "settled"), Money.of(text, currency).minor)
    return tally


async def _summary_settled(
    conn: AsyncConnection, company: str, first: date, last: date
) -> Iterable[tuple[str, str, str, str, int]]:
    """Settled in summary mode: the method lines owed for the batches, by settled day."""
    method = case((postings.c.operation == _SUMMARY_ACH, "ach"), else_="card")
    query = (
        select(
            postings.c.business_day,
            postings.c.currency,
            method,
            literal("settled"),
            _minor(postings.c.amount),
        )
        .where(
            _in_window(company, first, last),
            _is_summary(),
            postings.c.operation != _SUMMARY_FEE,
            postings.c.state != "cancelled",
        )
        .group_by(postings.c.business_day, postings.c.currency, method)
    )
    return [tuple(row) for row in await conn.execute(query)]


async def _oldest_unposted(
    conn: AsyncConnection, company: str, now: datetime
) -> UnpostedJournal | None:
    oldest = (
        await conn.execute(
            select(journals)
            .where(
                journals.c.company == company,
                journals.c.post_state != "posted",
                journals.c.batch_number.is_not(None),
            )
            .order_by(journals.c.business_day, journals.c.id)
            .limit(1)
        )
    ).one_or_none()
    if oldest is None:
        return None
    net = await conn.scalar(
        select(_signed_minor()).where(
            postings.c.company == company,
            postings.c.business_day == oldest.business_day,
            postings.c.journal_batch_number == oldest.batch_number,
            _written_lines(),
        )
    )
    return UnpostedJournal(
        batch_number=oldest.batch_number,
        business_day=oldest.business_day,
        opened_at=oldest.created_at,
        age_seconds=max(0.0, (now - oldest.created_at).total_seconds()),
        amount=_money(int(net or 0), oldest.currency),
    )
