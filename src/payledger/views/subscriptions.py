"""Subscriptions as the API, the CLI and the console list them, who created each, and its
audit trail. Read-only.

A subscription belongs to whoever created it: its ``created_by`` (``api:<client>``,
``cli:<user>``, ``console:<user>``, the actor its creation was audited under). The API shows a
client only the subscriptions it created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import audit_log, subscriptions

CREATED = "subscription.created"
LARGEST_PAGE = 200


@dataclass(frozen=True)
class SubscriptionRow:
    """One line of a subscriptions list."""

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


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


def _subject(subscription_id: int) -> str:
    return f"subscription:{subscription_id}"


async def subscription_page(
    database: Database,
    *,
    status: str | None = None,
    customer: str | None = None,
    created_by: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[SubscriptionRow]:
    """Subscriptions with an id above ``after``, oldest first, at most ``limit``; only those
    with ``status``, of ``customer``, created by the actor ``created_by`` when given."""
    query = select(subscriptions).where(subscriptions.c.id > after)
    if status is not None:
        query = query.where(subscriptions.c.status == status)
    if customer is not None:
        query = query.where(subscriptions.c.customer_account == customer)
    if created_by is not None:
        query = query.where(subscriptions.c.created_by == created_by)
    query = query.order_by(subscriptions.c.id).limit(max(1, min(limit, LARGEST_PAGE)))
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [
        SubscriptionRow(
            id=row.id,
            customer_account=row.customer_account,
            status=row.status,
            amount=Decimal(row.amount),
            currency=row.currency,
            description=row.description,
            next_charge_at=row.next_due_at,
            cancel_at_period_end=row.cancel_at_period_end,
            version=row.version,
            created_at=row.created_at,
        )
        for row in rows
    ]


async def subscription_creator(database: Database, subscription_id: int) -> str | None:
    """The actor that created the subscription (``api:shop``), None when there is none."""
    query = select(subscriptions.c.created_by).where(subscriptions.c.id == subscription_id)
    async with database.transaction() as conn:
        actor: str | None = await conn.scalar(query)
    return actor or None


async def subscription_audit(database: Database, subscription_id: int) -> list[AuditEntry]:
    """Every audit entry of the subscription, oldest first."""
    query = (
        select(audit_log)
        .where(audit_log.c.subject == _subject(subscription_id))
        .order_by(audit_log.c.id)
    )
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [AuditEntry(row.at, row.actor, row.action, dict(row.detail)) for row in rows]
