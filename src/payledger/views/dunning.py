"""Dunning cases as the console and the CLI show them: the list, the amounts at risk, the
recovery rate by ISO week, and one case's audit trail. Read-only.

A case is **at risk** while it is open, scheduled or exhausted (a card update may still
recover it). A case **closes** in the week it was last changed into ``recovered``,
``paid_elsewhere``, ``stopped`` or ``exhausted``; the week's recovery rate is its recovered
cases over its closed ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, case, cast, func, select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import audit_log, dunning_attempts, dunning_cases

AT_RISK = ("open", "retry_scheduled", "exhausted")
CLOSED = ("recovered", "paid_elsewhere", "stopped", "exhausted")
STATUSES = ("open", "retry_scheduled", "exhausted", "recovered", "paid_elsewhere", "stopped")


@dataclass(frozen=True)
class CaseRow:
    """One line of the cases list."""

    id: int
    status: str
    customer_account: str
    invoice_number: str
    amount: Decimal
    currency: str
    next_attempt_at: datetime | None
    attempts: int
    """Charges made after the missed one."""
    opened_at: datetime
    reason: str

    @property
    def at_risk(self) -> bool:
        return self.status in AT_RISK


@dataclass(frozen=True)
class WeekRate:
    """Cases closed in one ISO week, and how many of them were recovered."""

    week: str
    """``2026-W19``."""
    closed: int
    recovered: int

    @property
    def rate(self) -> Decimal:
        return (Decimal(self.recovered) / self.closed * 100).quantize(Decimal("1"))


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


async def case_list(
    database: Database, *, status: str | None = None, limit: int = 100
) -> list[CaseRow]:
    """The latest cases (of ``status`` when given), newest first."""
    c = dunning_cases.c
    made = (
        select(func.count())
        .where(dunning_attempts.c.case_id == c.id, dunning_attempts.c.attempt_no > 0)
        .scalar_subquery()
    )
    query = select(dunning_cases, made.label("made")).order_by(c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(c.status == status)
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [
        CaseRow(
            r.id,
            r.status,
            r.customer_account,
            r.invoice_number,
            Decimal(r.amount),
            r.currency,
            r.next_attempt_at,
            int(r.made),
            r.opened_at,
            r.reason,
        )
        for r in rows
    ]


async def at_risk(database: Database) -> dict[str, Decimal]:
    """The amounts of cases still at risk, by currency (counted per amount in SQL, summed as
    exact decimals here: amounts are stored as text with their own places)."""
    c = dunning_cases.c
    query = (
        select(c.currency, c.amount, func.count())
        .where(c.status.in_(AT_RISK))
        .group_by(c.currency, c.amount)
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    async with database.transaction() as conn:
        for currency, amount, count in await conn.execute(query):
            totals[currency] += Decimal(amount) * count
    return dict(sorted(totals.items()))


async def recovery_by_week(database: Database, *, weeks: int = 8) -> list[WeekRate]:
    """Closed and recovered cases per ISO week of their last change, latest week first."""
    c = dunning_cases.c
    if database.is_sqlite:
        monday: Any = func.date(c.updated_at, "weekday 0", "-6 days")
    else:
        monday = cast(func.date_trunc("week", func.timezone("UTC", c.updated_at)), Date)
    recovered = func.sum(cast(case((c.status == "recovered", 1), else_=0), Integer))
    query = (
        select(monday.label("monday"), func.count(), recovered)
        .where(c.status.in_(CLOSED))
        .group_by(monday)
        .order_by(monday.desc())
        .limit(weeks)
    )
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [WeekRate(_iso_week(day), int(closed), int(won or 0)) for day, closed, won in rows]


def _iso_week(day: date | datetime | str) -> str:
    found = date.fromisoformat(day[:10]) if isinstance(day, str) else day
    year, week, _ = found.isocalendar()
    return f"{year}-W{week:02d}"


async def case_audit(database: Database, case_id: int) -> list[AuditEntry]:
    """The case's audit entries (opened, each attempt, operator actions), oldest first."""
    query = (
        select(audit_log)
        .where(audit_log.c.subject == f"dunning_case:{case_id}")
        .order_by(audit_log.c.id)
    )
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [AuditEntry(r.at, r.actor, r.action, dict(r.detail or {})) for r in rows]
