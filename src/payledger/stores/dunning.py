"""The ``DunningStore`` port (``flows.ports.dunning``): ``dunning_cases`` and their
``dunning_attempts``, on SQLite and PostgreSQL.

Claims follow the job queue: on PostgreSQL the cases a run takes are locked with
``FOR UPDATE SKIP LOCKED`` (several workers never wait on each other), on SQLite the claim is
one ``BEGIN IMMEDIATE`` transaction. Either way the unique (case_id, attempt_no) key is what
makes an attempt happen once: a second insert of it is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_change
from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import dunning_attempts as attempts
from payledger.adapters.db.tables import dunning_cases as cases
from payledger.domain.clock import Clock
from payledger.domain.dunning import (
    Attempt,
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    DeclineClass,
    DunningCase,
)
from payledger.domain.money import Money
from payledger.flows.ports.dunning import ClaimedAttempt, StaleCase

_ACTIVE = [CaseStatus.OPEN.value, CaseStatus.RETRY_SCHEDULED.value, CaseStatus.EXHAUSTED.value]
_STARTED = AttemptOutcome.STARTED.value
_MISSED = [AttemptOutcome.DECLINED.value, AttemptOutcome.FAILED.value]


def _case_values(case: DunningCase) -> dict[str, Any]:
    return {
        "status": case.status.value,
        "next_attempt_at": case.next_attempt_at,
        "card_replaced": case.card_replaced,
        "reason": case.reason,
    }


def _attempt_of(row: Row[Any]) -> Attempt:
    return Attempt(
        no=row.attempt_no,
        at=row.started_at,
        outcome=AttemptOutcome(row.outcome),
        decline_class=DeclineClass(row.decline_class) if row.decline_class else None,
        reason=row.reason,
        gateway_txn_id=row.gateway_txn_id,
    )


def _case_of(row: Row[Any], tried: list[Attempt]) -> DunningCase:
    return DunningCase(
        id=row.id,
        source=CaseSource(row.source),
        source_key=row.source_key,
        invoice_number=row.invoice_number,
        customer_account=row.customer_account,
        vault_customer_id=row.vault_customer_id,
        amount=Money(Decimal(row.amount), row.currency),
        status=CaseStatus(row.status),
        opened_at=row.opened_at,
        next_attempt_at=row.next_attempt_at,
        attempts=tuple(tried),
        card_replaced=row.card_replaced,
        subscription_id=row.subscription_id,
        reason=row.reason,
        version=row.version,
    )


class SqlDunning:
    """Dunning cases in the database."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def _locking(self, query: Any) -> Any:
        # SQLite transactions already hold the write lock (BEGIN IMMEDIATE)
        return query if self.database.is_sqlite else query.with_for_update(skip_locked=True)

    async def open(self, case: DunningCase, *, actor: str) -> tuple[DunningCase, bool]:
        now = self.clock.now()
        async with self.database.transaction() as conn:
            new_id = await conn.scalar(
                insert_ignoring_duplicates(cases, self.database.dialect)
                .values(
                    source=case.source.value,
                    source_key=case.source_key,
                    invoice_number=case.invoice_number,
                    customer_account=case.customer_account,
                    vault_customer_id=case.vault_customer_id,
                    amount=str(case.amount.amount),
                    currency=case.amount.currency,
                    opened_at=case.opened_at,
                    subscription_id=case.subscription_id,
                    version=1,
                    created_at=now,
                    updated_at=now,
                    **_case_values(case),
                )
                .returning(cases.c.id)
            )
            if new_id is None:
                key = select(cases.c.id).where(cases.c.source_key == case.source_key)
                existing = await self._get(conn, await conn.scalar(key))
                assert existing is not None  # the insert met its unique key
                return existing, False
            for attempt in case.attempts:
                await conn.execute(
                    attempts.insert().values(
                        case_id=new_id, **self._finished(attempt), started_at=attempt.at
                    )
                )
            stored = await self._get(conn, new_id)
            assert stored is not None
            await self._audit(conn, stored, actor, "dunning.opened", {"reason": case.reason})
        return stored, True

    def _finished(self, attempt: Attempt) -> dict[str, Any]:
        return {
            "attempt_no": attempt.no,
            "outcome": attempt.outcome.value,
            "decline_class": attempt.decline_class.value if attempt.decline_class else None,
            "reason": attempt.reason,
            "gateway_txn_id": attempt.gateway_txn_id,
            "finished_at": self.clock.now(),
        }

    async def get(self, case_id: int) -> DunningCase | None:
        async with self.database.transaction() as conn:
            return await self._get(conn, case_id)

    async def _get(self, conn: AsyncConnection, case_id: int | None) -> DunningCase | None:
        row = (await conn.execute(select(cases).where(cases.c.id == case_id))).one_or_none()
        if row is None:
            return None
        query = (
            select(attempts).where(attempts.c.case_id == case_id).order_by(attempts.c.attempt_no)
        )
        return _case_of(row, [_attempt_of(a) for a in await conn.execute(query)])

    async def active_for_invoice(self, invoice_number: str) -> DunningCase | None:
        query = (
            select(cases.c.id)
            .where(cases.c.invoice_number == invoice_number, cases.c.status.in_(_ACTIVE))
            .order_by(cases.c.id.desc())
            .limit(1)
        )
        async with self.database.transaction() as conn:
            found = await conn.scalar(query)
            return await self._get(conn, found) if found is not None else None

    async def change(
        self, case: DunningCase, *, actor: str, action: str, detail: dict[str, Any]
    ) -> DunningCase:
        async with self.database.transaction() as conn:
            moved = await conn.execute(
                update(cases)
                .where(cases.c.id == case.id, cases.c.version == case.version)
                .values(**_case_values(case), version=case.version + 1, updated_at=self.clock.now())
            )
            if moved.rowcount != 1:
                raise StaleCase(f"dunning case {case.id} changed since version {case.version}")
            for attempt in case.attempts:
                if attempt.outcome is not AttemptOutcome.STARTED:
                    await self._finish(conn, case.id, attempt)
            stored = await self._get(conn, case.id)
            assert stored is not None
            await self._audit(conn, stored, actor, action, detail)
        return stored

    async def _finish(self, conn: AsyncConnection, case_id: int, attempt: Attempt) -> None:
        await conn.execute(
            update(attempts)
            .where(
                attempts.c.case_id == case_id,
                attempts.c.attempt_no == attempt.no,
                attempts.c.outcome == _STARTED,
            )
            .values(**self._finished(attempt), lease_owner=None, lease_until=None)
        )

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        owner: str,
        lease: timedelta,
        case_id: int | None = None,
    ) -> list[ClaimedAttempt]:
        held = (owner, now + lease)
        async with self.database.transaction() as conn:
            claimed = await self._resume(conn, now, limit, held, case_id)
            if len(claimed) < limit:
                claimed += await self._claim_new(conn, now, limit - len(claimed), held, case_id)
        return claimed

    async def _resume(
        self,
        conn: AsyncConnection,
        now: datetime,
        limit: int,
        held: tuple[str, datetime],
        case_id: int | None,
    ) -> list[ClaimedAttempt]:
        lapsed = [
            attempts.c.outcome == _STARTED,
            or_(attempts.c.lease_until.is_(None), attempts.c.lease_until < now),
        ]
        if case_id is not None:
            lapsed.append(attempts.c.case_id == case_id)
        ids = self._locking(
            select(attempts.c.id).where(*lapsed).order_by(attempts.c.id).limit(limit)
        )
        rows = await conn.execute(
            update(attempts)
            .where(attempts.c.id.in_(ids.scalar_subquery()))
            .values(lease_owner=held[0], lease_until=held[1])
            .returning(*attempts.c)
        )
        return [await self._claimed(conn, row, resumed=True) for row in rows]

    async def _claim_new(
        self,
        conn: AsyncConnection,
        now: datetime,
        limit: int,
        held: tuple[str, datetime],
        case_id: int | None,
    ) -> list[ClaimedAttempt]:
        running = exists().where(attempts.c.case_id == cases.c.id, attempts.c.outcome == _STARTED)
        due = [
            cases.c.status == CaseStatus.RETRY_SCHEDULED.value,
            cases.c.next_attempt_at <= now,
            ~running,
        ]
        if case_id is not None:
            due.append(cases.c.id == case_id)
        query = self._locking(
            select(cases.c.id).where(and_(*due)).order_by(cases.c.next_attempt_at).limit(limit)
        )
        claimed = []
        for found in (await conn.execute(query)).scalars().all():
            made = select(func.max(attempts.c.attempt_no)).where(attempts.c.case_id == found)
            number = (await conn.scalar(made) or 0) + 1
            row = (
                await conn.execute(
                    insert_ignoring_duplicates(attempts, self.database.dialect)
                    .values(
                        case_id=found,
                        attempt_no=number,
                        outcome=_STARTED,
                        started_at=now,
                        lease_owner=held[0],
                        lease_until=held[1],
                    )
                    .returning(*attempts.c)
                )
            ).one_or_none()
            if row is not None:  # else another worker inserted it first: theirs
                claimed.append(await self._claimed(conn, row, resumed=False))
        return claimed

    async def _claimed(
        self, conn: AsyncConnection, row: Row[Any], *, resumed: bool
    ) -> ClaimedAttempt:
        case = await self._get(conn, row.case_id)
        assert case is not None  # attempts are never without their case
        return ClaimedAttempt(case, row.id, row.attempt_no, row.started_at, resumed)

    async def start_charge(self, attempt_id: int) -> bool:
        async with self.database.transaction() as conn:
            started = await conn.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id, attempts.c.charge_started_at.is_(None))
                .values(charge_started_at=self.clock.now())
                .returning(attempts.c.id)
            )
            return started.scalar_one_or_none() is None

    async def release(self, attempt_id: int, error: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id)
                .values(error=error, lease_owner=None, lease_until=None)
            )

    async def declines_since(self, since: datetime) -> int:
        query = select(func.count()).where(
            attempts.c.outcome.in_(_MISSED), attempts.c.finished_at >= since
        )
        async with self.database.transaction() as conn:
            return int(await conn.scalar(query) or 0)

    async def _audit(
        self,
        conn: AsyncConnection,
        case: DunningCase,
        actor: str,
        action: str,
        detail: dict[str, Any],
    ) -> None:
        await record_change(
            conn,
            at=self.clock.now(),
            actor=actor,
            action=action,
            subject=f"dunning_case:{case.id}",
            changed=case,
            detail=detail,
        )
