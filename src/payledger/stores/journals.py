"""The ``JournalBook`` port (``flows.ports``) on the ``journals`` and ``postings`` tables.

Every method is one transaction and every change of a journal one conditional update of its
row. A flush numbers lines into a journal by updating that same row first
(``SqlPostingStore.number_lines``), so on PostgreSQL closing waits for a numbering in
progress and numbering after the close finds the journal closed; SQLite runs one writer at a
time. Once a journal is closed the lines it holds can only leave the owed states, so "closed
and nothing owed" stays true until it is posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func, select, update

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import journals, postings
from payledger.domain.clock import Clock
from payledger.domain.posting import (
    Journal,
    JournalContents,
    JournalState,
    LedgerOperation,
    PostingState,
)
from payledger.stores.postings import at

_OWED = (PostingState.PLANNED.value, PostingState.SENDING.value, PostingState.UNKNOWN.value)
_WRITTEN = (PostingState.POSTED.value, PostingState.SHADOW.value)
_DEBITS = (LedgerOperation.REFUND.value, LedgerOperation.REVERSAL.value)
_LINES = (LedgerOperation.PAYMENT.value, *_DEBITS)


@dataclass(frozen=True)
class JournalOverview:
    """A journal and its lines, as ``payledger journals list`` and the console show it."""

    journal: Journal
    contents: JournalContents


class SqlJournalBook:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    async def close_due(self, company: str, last_day: str, opened_before: datetime) -> list[str]:
        now = self.clock.now()
        async with self.database.transaction() as conn:
            closed = await conn.execute(
                update(journals)
                .where(
                    journals.c.company == company,
                    journals.c.closed == 0,
                    journals.c.business_day <= last_day,
                    journals.c.created_at <= opened_before,
                )
                .values(closed=1, closed_at=now)
                .returning(journals.c.batch_number)
            )
            return sorted(number for number in closed.scalars() if number)

    async def journal(self, batch_number: str) -> Journal | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(select(journals).where(journals.c.batch_number == batch_number))
            ).one_or_none()
        return _journal(row) if row else None

    async def unposted(self, company: str) -> list[Journal]:
        query = (
            select(journals)
            .where(
                journals.c.company == company,
                journals.c.closed == 1,
                journals.c.batch_number.is_not(None),
                journals.c.post_state != JournalState.POSTED.value,
            )
            .order_by(journals.c.business_day, journals.c.generation, journals.c.id)
        )
        async with self.database.transaction() as conn:
            return [_journal(row) for row in await conn.execute(query)]

    async def contents(self, batch_number: str) -> JournalContents:
        line = postings.alias("line")
        removal = postings.alias("removal")
        async with self.database.transaction() as conn:
            lines = (
                await conn.execute(
                    select(line.c.reference, line.c.operation, line.c.state, line.c.amount).where(
                        line.c.journal_batch_number == batch_number,
                        line.c.operation.in_(_LINES),
                    )
                )
            ).all()
            removals = (
                await conn.execute(
                    select(removal.c.target_reference, removal.c.state).where(
                        removal.c.operation == LedgerOperation.REMOVAL.value,
                        removal.c.target_reference.in_([row.reference for row in lines]),
                    )
                )
            ).all()
        removed = {row.target_reference for row in removals if row.state in _WRITTEN}
        owed = sum(row.state in _OWED for row in lines) + sum(
            row.state in _OWED for row in removals
        )
        written = [row for row in lines if row.state in _WRITTEN and row.reference not in removed]
        total = sum(
            (-Decimal(row.amount) if row.operation in _DEBITS else Decimal(row.amount))
            for row in written
        )
        return JournalContents(lines=len(written), total=Decimal(total), owed=owed)

    async def approve(self, batch_number: str, actor: str) -> Journal | None:
        now = self.clock.now()
        async with self.database.transaction() as conn:
            await conn.execute(
                update(journals)
                .where(
                    journals.c.batch_number == batch_number,
                    journals.c.post_state != JournalState.POSTED.value,
                )
                .values(
                    approved_by=actor[:80],
                    approved_at=now,
                    closed=1,
                    closed_at=_coalesce(journals.c.closed_at, now),
                    post_state=case(
                        (
                            journals.c.post_state == JournalState.UNPOSTED.value,
                            JournalState.APPROVED.value,
                        ),
                        else_=journals.c.post_state,
                    ),
                )
            )
        return await self.journal(batch_number)

    async def start_posting(self, batch_number: str) -> bool:
        async with self.database.transaction() as conn:
            started = await conn.execute(
                update(journals)
                .where(
                    journals.c.batch_number == batch_number,
                    journals.c.closed == 1,
                    journals.c.post_state != JournalState.POSTED.value,
                    ~_owed_lines(batch_number),
                )
                .values(
                    post_state=JournalState.POSTING.value,
                    post_attempts=journals.c.post_attempts + 1,
                )
            )
        return bool(started.rowcount)

    async def posted(self, batch_number: str) -> None:
        await self._set(
            batch_number,
            post_state=JournalState.POSTED.value,
            posted_at=self.clock.now(),
            post_error=None,
        )

    async def refused(self, batch_number: str, error: str) -> None:
        await self._set(
            batch_number, post_state=JournalState.REFUSED.value, post_error=error[:2000]
        )

    async def note_error(self, batch_number: str, error: str) -> None:
        await self._set(batch_number, post_error=error[:2000])

    async def _set(self, batch_number: str, **values: Any) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(journals).where(journals.c.batch_number == batch_number).values(**values)
            )

    async def overview(self, *, limit: int = 100) -> list[JournalOverview]:
        """The latest ``limit`` journals with a batch number, newest first, with their lines."""
        query = (
            select(journals)
            .where(journals.c.batch_number.is_not(None))
            .order_by(journals.c.business_day.desc(), journals.c.generation.desc())
            .limit(limit)
        )
        async with self.database.transaction() as conn:
            found = [_journal(row) for row in await conn.execute(query)]
        return [JournalOverview(j, await self.contents(j.batch_number)) for j in found]


def _owed_lines(batch_number: str) -> Any:
    """Some line of the journal, or the removal of one, is still owed or on its way."""
    line, removal, target = postings.alias(), postings.alias(), postings.alias()
    owed_line = exists().where(line.c.journal_batch_number == batch_number, line.c.state.in_(_OWED))
    owed_removal = exists().where(
        removal.c.operation == LedgerOperation.REMOVAL.value,
        removal.c.state.in_(_OWED),
        exists().where(
            target.c.reference == removal.c.target_reference,
            target.c.journal_batch_number == batch_number,
        ),
    )
    return owed_line | owed_removal


def _coalesce(column: Any, moment: datetime) -> Any:
    return func.coalesce(column, at(moment))


def _journal(row: Any) -> Journal:
    return Journal(
        company=row.company,
        business_day=row.business_day,
        currency=row.currency,
        batch_number=row.batch_number or "",
        generation=row.generation,
        state=JournalState(row.post_state),
        closed=bool(row.closed),
        created_at=row.created_at,
        closed_at=row.closed_at,
        approved_by=row.approved_by or "",
        post_attempts=row.post_attempts,
        post_error=row.post_error or "",
        posted_at=row.posted_at,
    )
