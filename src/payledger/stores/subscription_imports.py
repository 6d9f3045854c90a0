"""The ``ImportedSubscriptions`` port (``flows.ports``): subscriptions imported from PayTrace
recurrences, on the ``subscriptions`` table (migration 0011).

The unique ``gateway_schedule_id`` makes an import once per recurrence, whoever runs it; a
period PayTrace's schedule charged is an entry of its own (``gateway_paid``) under the same
unique (subscription, period, entry) key a billing run claims with, so it is never billed by
payledger as well.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import subscription_periods as periods
from payledger.adapters.db.tables import subscriptions
from payledger.domain.subscriptions import Subscription
from payledger.domain.subscriptions_billing import EntryStatus, NewEntry, period_lines
from payledger.flows.ports.subscriptions import UnknownSubscription
from payledger.stores.subscriptions import (
    BILLING_ACTOR,
    SqlSubscriptions,
    subscription_from_row,
    subscription_values,
)


class SqlImportedSubscriptions(SqlSubscriptions):
    """Imported subscriptions in the database (and everything :class:`SqlSubscriptions` does)."""

    async def by_schedule(self, schedule_id: str) -> Subscription | None:
        query = select(subscriptions).where(subscriptions.c.gateway_schedule_id == schedule_id)
        async with self.database.transaction() as conn:
            row = (await conn.execute(query)).one_or_none()
        return subscription_from_row(row) if row else None

    async def add_imported(
        self, subscription: Subscription, *, actor: str, detail: dict[str, Any]
    ) -> Subscription | None:
        now = self.clock.now()
        values = subscription_values(subscription)
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    insert_ignoring_duplicates(subscriptions, self.database.dialect)
                    .values(**values, version=1, created_by=actor, created_at=now, updated_at=now)
                    .returning(*subscriptions.c)
                )
            ).one_or_none()
            if row is None:
                return None
            stored = subscription_from_row(row)
            await self._audit(conn, stored, actor, "subscription.imported", detail)
        return stored

    async def take_over(
        self, subscription_id: int, *, next_period: int, actor: str
    ) -> Subscription:
        async with self.database.transaction() as conn:
            current = await self._locked(conn, subscription_id)
            taken = replace(
                current,
                billed_by_gateway=False,
                next_period=max(current.next_period, next_period),
            )
            stored = await self._store(conn, taken)
            assert stored is not None  # the row is locked (or the database is) meanwhile
            detail = {"schedule": current.gateway_schedule_id, "next_period": stored.next_period}
            await self._audit(conn, stored, actor, "subscription.taken_over", detail)
        return stored

    async def billed_by_gateway(self, vault_customer_id: str) -> list[Subscription]:
        query = (
            select(subscriptions)
            .where(
                subscriptions.c.vault_customer_id == vault_customer_id,
                subscriptions.c.billed_by_gateway.is_(True),
            )
            .order_by(subscriptions.c.id)
        )
        async with self.database.transaction() as conn:
            return [subscription_from_row(row) for row in await conn.execute(query)]

    async def record_gateway_charge(
        self, subscription_id: int, period_index: int, gateway_txn_id: str
    ) -> bool:
        async with self.database.transaction() as conn:
            current = await self._locked(conn, subscription_id)
            seen = select(periods.c.id).where(
                periods.c.gateway_txn_id == gateway_txn_id,
                periods.c.status == EntryStatus.GATEWAY_PAID.value,
            )
            if (await conn.execute(seen)).first() is not None:
                return False  # this charge paid a period already (here or elsewhere)
            period = current.schedule.period(period_index)
            if period is None:
                return False
            lines, _ = period_lines(current, period, Decimal(0))
            new = NewEntry(period, lines, status=EntryStatus.GATEWAY_PAID)
            inserted = await self._insert(conn, current, [new], None)
            if not inserted:
                return False
            await conn.execute(
                update(periods)
                .where(periods.c.id == inserted[0].id)
                .values(gateway_txn_id=gateway_txn_id)
            )
            if current.next_period <= period_index:
                moved = await self._store(conn, replace(current, next_period=period_index + 1))
                assert moved is not None
            detail = {"period": period_index, "gateway_txn_id": gateway_txn_id}
            await self._audit(conn, current, BILLING_ACTOR, "subscription.gateway_charged", detail)
        return True

    async def _locked(self, conn: AsyncConnection, subscription_id: int) -> Subscription:
        query = self._locking_wait(
            select(subscriptions).where(subscriptions.c.id == subscription_id)
        )
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise UnknownSubscription(f"no subscription {subscription_id}")
        return subscription_from_row(row)

    def _locking_wait(self, query: Any) -> Any:
        # SQLite transactions already hold the write lock (BEGIN IMMEDIATE)
        return query if self.database.is_sqlite else query.with_for_update()
