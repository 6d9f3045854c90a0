"""The ``SubscriptionStore`` port (``flows.ports``): ``subscriptions`` and their billing
entries (``subscription_periods``), on SQLite and PostgreSQL.

Claims follow the job queue: on PostgreSQL the rows a run takes are locked with
``FOR UPDATE SKIP LOCKED`` (several workers never wait on each other), on SQLite the claim is
one ``BEGIN IMMEDIATE`` transaction. Either way the unique (subscription, period, entry) key
is what makes an entry billed once: a second insert of it is skipped, and its subscription is
then left as the first claimer stored it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_change
from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import subscription_periods as periods
from payledger.adapters.db.tables import subscriptions
from payledger.domain.clock import Clock
from payledger.domain.money import Money
from payledger.domain.subscriptions import BILLED, Plan, Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import (
    UNFINISHED,
    BillingEntry,
    ChargeLine,
    Claim,
    EntryStatus,
    NewEntry,
)
from payledger.domain.subscriptions_periods import BillingSchedule, Interval, IntervalUnit, Period
from payledger.flows.ports.subscriptions import ClaimedEntry, StaleSubscription

BILLING_ACTOR = "payledger:billing"
"""The audit actor of what the billing run changes."""
CHANGE_LEASE = timedelta(minutes=10)
"""How long a change holds the proration entry it charges at once."""


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def subscription_values(subscription: Subscription) -> dict[str, Any]:
    """The columns of ``subscription`` but its id, version and times."""
    plan, schedule = subscription.plan, subscription.schedule
    return {
        "customer_account": subscription.customer_account,
        "vault_customer_id": subscription.vault_customer_id,
        "amount": str(plan.amount.amount),
        "currency": plan.amount.currency,
        "description": plan.description,
        "item": plan.item,
        "ledger_account": plan.ledger_account,
        "interval_unit": schedule.interval.unit.value,
        "interval_every": schedule.interval.every,
        "interval_rule": schedule.interval.rule,
        "anchor": schedule.anchor.isoformat(),
        "timezone": schedule.timezone,
        "trial_end": subscription.trial_end.isoformat() if subscription.trial_end else None,
        "end_date": schedule.end_date.isoformat() if schedule.end_date else None,
        "max_periods": schedule.max_periods,
        "status": subscription.status.value,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "next_period": subscription.next_period,
        "next_due_at": subscription.next_due(),
        "credit": str(subscription.credit),
        "gateway_schedule_id": subscription.gateway_schedule_id or None,
        "billed_by_gateway": subscription.billed_by_gateway,
    }


def subscription_from_row(row: Row[Any]) -> Subscription:
    anchor = date.fromisoformat(row.anchor)
    return Subscription(
        id=row.id,
        customer_account=row.customer_account,
        vault_customer_id=row.vault_customer_id,
        plan=Plan(
            Money(Decimal(row.amount), row.currency), row.description, row.item, row.ledger_account
        ),
        schedule=BillingSchedule(
            anchor,
            Interval(IntervalUnit(row.interval_unit), row.interval_every, row.interval_rule),
            row.timezone,
            end_date=_day(row.end_date),
            max_periods=row.max_periods,
        ),
        trial_end=_day(row.trial_end),
        status=SubscriptionStatus(row.status),
        cancel_at_period_end=row.cancel_at_period_end,
        next_period=row.next_period,
        credit=Decimal(row.credit),
        version=row.version,
        created_at=row.created_at,
        gateway_schedule_id=row.gateway_schedule_id or "",
        billed_by_gateway=row.billed_by_gateway,
    )


def _entry_from_row(row: Row[Any]) -> BillingEntry:
    lines = tuple(
        ChargeLine(line["description"], Money(Decimal(line["amount"]), row.currency))
        for line in row.lines
    )
    return BillingEntry(
        id=row.id,
        subscription_id=row.subscription_id,
        period=Period(
            row.period_index, date.fromisoformat(row.starts_on), date.fromisoformat(row.ends_on)
        ),
        entry=row.entry,
        status=EntryStatus(row.status),
        lines=lines,
        invoice_key=row.invoice_key,
        claimed_at=row.claimed_at,
        invoice_number=row.invoice_number,
        gateway_txn_id=row.gateway_txn_id,
        attempts=row.attempts,
        error=row.error,
        charge_started=row.charge_started_at is not None,
    )


class SqlSubscriptions:
    """Subscriptions in the database."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def _locking(self, query: Any) -> Any:
        # SQLite transactions already hold the write lock (BEGIN IMMEDIATE)
        return query if self.database.is_sqlite else query.with_for_update(skip_locked=True)

    async def add(self, subscription: Subscription, *, actor: str) -> Subscription:
        now = self.clock.now()
        values = subscription_values(subscription)
        async with self.database.transaction() as conn:
            new_id = await conn.scalar(
                subscriptions.insert()
                .values(**values, version=1, created_by=actor, created_at=now, updated_at=now)
                .returning(subscriptions.c.id)
            )
            row = (
                await conn.execute(select(subscriptions).where(subscriptions.c.id == new_id))
            ).one()
            stored = subscription_from_row(row)
            await self._audit(conn, stored, actor, "subscription.created", {})
        return stored

    async def get(self, subscription_id: int) -> Subscription | None:
        async with self.database.transaction() as conn:
            return await self._get(conn, subscription_id)

    async def _get(self, conn: AsyncConnection, subscription_id: int) -> Subscription | None:
        query = select(subscriptions).where(subscriptions.c.id == subscription_id)
        row = (await conn.execute(query)).one_or_none()
        return subscription_from_row(row) if row else None

    async def change(
        self,
        subscription: Subscription,
        *,
        actor: str,
        action: str,
        detail: dict[str, Any],
        entry: NewEntry | None = None,
        lease_owner: str = "",
    ) -> tuple[Subscription, BillingEntry | None]:
        async with self.database.transaction() as conn:
            stored = await self._store(conn, subscription)
            if stored is None:
                raise StaleSubscription(
                    f"subscription {subscription.id} changed since version "
                    f"{subscription.version}; read it again"
                )
            added = None
            if entry is not None:
                lease = (lease_owner, self.clock.now() + CHANGE_LEASE) if lease_owner else None
                [added] = await self._insert(conn, stored, [entry], lease)
            await self._audit(conn, stored, actor, action, detail)
        return stored, added

    async def _store(
        self, conn: AsyncConnection, subscription: Subscription
    ) -> Subscription | None:
        """Write ``subscription`` over its stored version; None when that version is gone."""
        result = await conn.execute(
            update(subscriptions)
            .where(
                subscriptions.c.id == subscription.id,
                subscriptions.c.version == subscription.version,
            )
            .values(
                **subscription_values(subscription),
                version=subscription.version + 1,
                updated_at=self.clock.now(),
            )
            .returning(*subscriptions.c)
        )
        row = result.one_or_none()
        return subscription_from_row(row) if row else None

    async def _insert(
        self,
        conn: AsyncConnection,
        subscription: Subscription,
        entries: Sequence[NewEntry],
        lease: tuple[str, datetime] | None,
    ) -> list[BillingEntry]:
        """Insert ``entries``; those inserted (the ones this transaction claimed) return."""
        now, claimed = self.clock.now(), []
        for new in entries:
            total = sum((line.amount.amount for line in new.lines), Decimal(0))
            billed = new.status is EntryStatus.PLANNED and lease is not None
            row = (
                await conn.execute(
                    insert_ignoring_duplicates(periods, self.database.dialect)
                    .values(
                        subscription_id=subscription.id,
                        period_index=new.period.index,
                        entry=new.entry,
                        starts_on=new.period.starts_on.isoformat(),
                        ends_on=new.period.ends_on.isoformat(),
                        status=new.status.value,
                        lines=[
                            {"description": line.description, "amount": str(line.amount.amount)}
                            for line in new.lines
                        ],
                        amount=str(total),
                        currency=subscription.currency,
                        invoice_key=new.invoice_key(subscription.id),
                        lease_owner=lease[0] if billed and lease else None,
                        lease_until=lease[1] if billed and lease else None,
                        claimed_at=now,
                        updated_at=now,
                    )
                    .returning(*periods.c)
                )
            ).one_or_none()
            if row is not None:
                claimed.append(_entry_from_row(row))
        return claimed

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        owner: str,
        lease: timedelta,
        plan: Callable[[Subscription], Claim],
    ) -> list[ClaimedEntry]:
        held = (owner, now + lease)
        async with self.database.transaction() as conn:
            claimed = await self._resume(conn, now, limit, held)
            if len(claimed) < limit:
                claimed += await self._claim_new(conn, now, limit - len(claimed), held, plan)
        return claimed

    async def _resume(
        self, conn: AsyncConnection, now: datetime, limit: int, held: tuple[str, datetime]
    ) -> list[ClaimedEntry]:
        free = or_(periods.c.lease_until.is_(None), periods.c.lease_until < now)
        unfinished = periods.c.status.in_([status.value for status in UNFINISHED])
        ids = self._locking(
            select(periods.c.id).where(unfinished, free).order_by(periods.c.id).limit(limit)
        )
        rows = await conn.execute(
            update(periods)
            .where(periods.c.id.in_(ids.scalar_subquery()))
            .values(lease_owner=held[0], lease_until=held[1])
            .returning(*periods.c)
        )
        entries = sorted((_entry_from_row(row) for row in rows), key=lambda e: e.id)
        found = []
        for entry in entries:
            subscription = await self._get(conn, entry.subscription_id)
            assert subscription is not None  # entries are never without their subscription
            found.append(ClaimedEntry(entry, subscription))
        return found

    async def _claim_new(
        self,
        conn: AsyncConnection,
        now: datetime,
        limit: int,
        held: tuple[str, datetime],
        plan: Callable[[Subscription], Claim],
    ) -> list[ClaimedEntry]:
        due = self._locking(
            select(subscriptions)
            .where(
                subscriptions.c.next_due_at <= now,
                subscriptions.c.status.in_([status.value for status in BILLED]),
            )
            .order_by(subscriptions.c.next_due_at, subscriptions.c.id)
            .limit(limit)
        )
        claimed: list[ClaimedEntry] = []
        for row in (await conn.execute(due)).all():
            claim = plan(subscription_from_row(row))
            stored = await self._store(conn, claim.subscription)
            if stored is None:  # changed since it was read: the next run sees it as it is now
                continue
            # An entry inserted before (it cannot be, while the version moves with every
            # claim) is not returned: it is never billed twice, and resumed if unfinished.
            inserted = await self._insert(conn, stored, claim.entries, held)
            claimed += [ClaimedEntry(e, stored) for e in inserted if e.status in UNFINISHED]
        return claimed

    async def start_charge(self, entry_id: int) -> bool:
        async with self.database.transaction() as conn:
            started = await conn.execute(
                update(periods)
                .where(periods.c.id == entry_id, periods.c.charge_started_at.is_(None))
                .values(charge_started_at=self.clock.now())
                .returning(periods.c.id)
            )
            return started.scalar_one_or_none() is None

    async def advance(
        self,
        entry_id: int,
        status: EntryStatus,
        *,
        invoice_number: str = "",
        gateway_txn_id: str = "",
        error: str = "",
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "error": error,
            "updated_at": self.clock.now(),
        }
        if invoice_number:
            values["invoice_number"] = invoice_number
        if gateway_txn_id:
            values["gateway_txn_id"] = gateway_txn_id
        if status not in UNFINISHED:
            values.update(lease_owner=None, lease_until=None)
        async with self.database.transaction() as conn:
            await conn.execute(update(periods).where(periods.c.id == entry_id).values(**values))

    async def release(self, entry_id: int, error: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(periods)
                .where(periods.c.id == entry_id)
                .values(
                    attempts=periods.c.attempts + 1,
                    error=error,
                    lease_owner=None,
                    lease_until=None,
                    updated_at=self.clock.now(),
                )
            )

    async def renew(self, owner: str, until: datetime) -> int:
        unfinished = periods.c.status.in_([status.value for status in UNFINISHED])
        async with self.database.transaction() as conn:
            renewed = await conn.execute(
                update(periods)
                .where(periods.c.lease_owner == owner, unfinished)
                .values(lease_until=until)
            )
        return int(renewed.rowcount or 0)

    async def settle_status(
        self, subscription_id: int, status: SubscriptionStatus, *, reason: str
    ) -> Subscription | None:
        billed = [s.value for s in BILLED]
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    update(subscriptions)
                    .where(
                        subscriptions.c.id == subscription_id,
                        subscriptions.c.status.in_(billed),
                        subscriptions.c.status != status.value,
                    )
                    .values(
                        status=status.value,
                        version=subscriptions.c.version + 1,
                        updated_at=self.clock.now(),
                    )
                    .returning(*subscriptions.c)
                )
            ).one_or_none()
            if row is None:
                return None
            settled = subscription_from_row(row)
            await self._audit(
                conn, settled, BILLING_ACTOR, f"subscription.{status.value}", {"reason": reason}
            )
        return settled

    async def entries(self, subscription_id: int) -> list[BillingEntry]:
        query = (
            select(periods)
            .where(periods.c.subscription_id == subscription_id)
            .order_by(periods.c.period_index, periods.c.entry)
        )
        async with self.database.transaction() as conn:
            return [_entry_from_row(row) for row in await conn.execute(query)]

    async def _audit(
        self,
        conn: AsyncConnection,
        subscription: Subscription,
        actor: str,
        action: str,
        detail: dict[str, Any],
    ) -> None:
        await record_change(
            conn,
            at=self.clock.now(),
            actor=actor,
            action=action,
            subject=f"subscription:{subscription.id}",
            changed=subscription,
            detail=detail,
        )
