"""The SQL behind cash at a glance (``views.cash``): sums in integer minor units, grouped by
business day, currency, payment method and flow, for both posting granularities."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from payledger.adapters.db.tables import inbox, journals, postings, recon_runs, summary_members
from payledger.domain.model import PaymentKind
from payledger.domain.money import Money
from payledger.domain.posting import SUMMARY_OPERATION_PREFIX
from payledger.domain.summary import ACH, FEE

ACH_BATCH = "ACH"
"""The batch label reconciliation gives checks (ACH), which PayTrace settles without one."""
_ACH_KINDS = (PaymentKind.ACH_SALE.value, PaymentKind.ACH_REFUND.value)
_SUMMARY_ACH = f"{SUMMARY_OPERATION_PREFIX}{ACH}"
_SUMMARY_FEE = f"{SUMMARY_OPERATION_PREFIX}{FEE}"
_LONGEST_RUN = timedelta(days=31)
"""Reconciliation runs starting this long before the week are not read (bounds the query)."""

Tally = tuple[str, str, str, str, int]
"""(business day, currency, method, flow, amount in minor units)."""


class OldestJournal(NamedTuple):
    batch_number: str
    business_day: str
    opened_at: datetime
    currency: str
    net_minor: int


async def tallies(conn: AsyncConnection, company: str, first: date, last: date) -> list[Tally]:
    """Every flow's sums for the business days ``first``..``last``."""
    found: list[Tally] = []
    for query in (_money_moved, _summary_members, _ledger_lines, _summary_settled):
        found += await query(conn, company, first, last)
    found += [(*key, minor) for key, minor in (await _settled(conn, company, first, last)).items()]
    return found


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


async def _money_moved(conn: AsyncConnection, company: str, first: date, last: date) -> list[Tally]:
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
) -> list[Tally]:
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
) -> list[Tally]:
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


async def _settled(
    conn: AsyncConnection, company: str, first: date, last: date
) -> dict[tuple[str, str, str, str], int]:
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
    tally: dict[tuple[str, str, str, str], int] = {}
    for (number, settled), sums in batches.items():
        method = "ach" if number == ACH_BATCH else "card"
        for currency, text in sums.items():
            key = (settled, currency, method, "settled")
            tally[key] = tally.get(key, 0) + Money.of(text, currency).minor
    return tally


async def _summary_settled(
    conn: AsyncConnection, company: str, first: date, last: date
) -> list[Tally]:
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


async def oldest_unposted(conn: AsyncConnection, company: str) -> OldestJournal | None:
    """The oldest journal written to D365 and not posted yet, with the net of its lines."""
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
    return OldestJournal(
        oldest.batch_number, oldest.business_day, oldest.created_at, oldest.currency, int(net or 0)
    )
