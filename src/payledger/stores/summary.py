"""The ``SummaryStore`` port (``flows.ports``) on ``summary_members`` and ``postings``.

A payment's detail row is kept from its first event; a void marks it voided with one
``INSERT ... ON CONFLICT DO UPDATE``, so a void and its sale's event agree in either order and
however often they are delivered. A batch's detail and its summary lines are written in one
transaction, each row once (a transaction by company, a posting by transaction and
operation), so a batch seen again or a run that crashed half-way leaves exactly one set
behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import postings, summary_members
from payledger.domain.posting import LedgerOperation, Posting, PostingState
from payledger.domain.summary import DetailRow, PaymentDetail
from payledger.engine.queue import Queue
from payledger.stores.postings import flush_job, posting_row

_NOT_A_LINE = (PostingState.CANCELLED.value, PostingState.DEAD.value)
NEW = "new"


class SqlSummaryStore:
    def __init__(self, queue: Queue, *, flush_wait: timedelta = timedelta(0)) -> None:
        self.queue = queue
        self.database = queue.database
        self.flush_wait = flush_wait

    async def keep_payment(self, detail: PaymentDetail, *, company: str) -> None:
        row = {
            "company": company,
            "batch_number": "",
            "txn_id": detail.txn_id,
            "method": detail.method,
            "kind": detail.operation.value,
            "amount": str(detail.signed.amount),
            "currency": detail.amount.currency,
            "line_reference": "",
            "business_day": detail.business_day,
            "voided": detail.voided,
            "created_at": self.queue.clock.now(),
        }
        keep = _insert(self.database.dialect).values(row)
        if detail.voided:
            statement = keep.on_conflict_do_update(index_elements=_KEY, set_={"voided": True})
        else:
            statement = keep.on_conflict_do_nothing()
        async with self.database.transaction() as conn:
            await conn.execute(statement)

    async def voided(self, txn_ids: Sequence[str], *, company: str) -> set[str]:
        if not txn_ids:
            return set()
        query = select(summary_members.c.txn_id).where(
            summary_members.c.company == company,
            summary_members.c.txn_id.in_(list(txn_ids)),
            summary_members.c.voided,
        )
        async with self.database.transaction() as conn:
            return set((await conn.execute(query)).scalars())

    async def lines_per_payment(self, txn_ids: Sequence[str]) -> set[str]:
        if not txn_ids:
            return set()
        query = select(postings.c.gateway_txn_id).where(
            postings.c.gateway_txn_id.in_(list(txn_ids)),
            postings.c.operation.in_((LedgerOperation.PAYMENT.value, LedgerOperation.REFUND.value)),
            postings.c.state.not_in(_NOT_A_LINE),
        )
        async with self.database.transaction() as conn:
            return set((await conn.execute(query)).scalars())

    async def record_summary(
        self,
        detail: Sequence[DetailRow],
        lines: Sequence[Posting],
        *,
        company: str,
        business_day: str,
    ) -> dict[str, str]:
        now = self.queue.clock.now()
        references = [line.reference for line in lines]
        async with self.database.transaction() as conn:
            before = {
                row.reference: row.state
                for row in await conn.execute(
                    select(postings.c.reference, postings.c.state).where(
                        postings.c.reference.in_(references)
                    )
                )
            }
            if detail:
                await conn.execute(
                    _settled_detail(self.database.dialect),
                    [_member(row, company, business_day, now) for row in detail],
                )
            new = [line for line in lines if line.reference not in before]
            if new:
                await conn.execute(
                    insert_ignoring_duplicates(postings, self.database.dialect),
                    [posting_row(line, None, now) for line in new],
                )
                await self.queue.enqueue(conn, flush_job(company, now, self.flush_wait))
        return {reference: before.get(reference, NEW) for reference in references}


_KEY = ["company", "txn_id"]
_FILLED_IN = ("batch_number", "method", "kind", "amount", "currency", "line_reference")
"""What the settled batch tells of a row kept since its event (its day and void stay)."""


def _insert(dialect: str) -> PgInsert | SqliteInsert:
    return pg_insert(summary_members) if dialect == "postgresql" else sqlite_insert(summary_members)


def _settled_detail(dialect: str) -> PgInsert | SqliteInsert:
    insert = _insert(dialect)
    return insert.on_conflict_do_update(
        index_elements=_KEY, set_={name: insert.excluded[name] for name in _FILLED_IN}
    )


def _member(row: DetailRow, company: str, business_day: str, now: datetime) -> dict[str, Any]:
    return {
        "company": company,
        "batch_number": row.batch,
        "txn_id": row.txn_id,
        "method": row.method,
        "kind": row.kind,
        "amount": row.amount,
        "currency": row.currency,
        "line_reference": row.line_reference,
        "business_day": business_day,
        "voided": False,
        "created_at": now,
    }


async def summary_detail(
    database: Database, company: str, batches: Sequence[str]
) -> list[DetailRow]:
    """The members of ``batches``, by batch and transaction."""
    if not batches:
        return []
    query = (
        select(summary_members)
        .where(
            summary_members.c.company == company,
            summary_members.c.batch_number.in_(list(batches)),
        )
        .order_by(summary_members.c.batch_number, summary_members.c.txn_id)
    )
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [
        DetailRow(
            row.batch_number,
            row.txn_id,
            row.method,
            row.kind,
            row.amount,
            row.currency,
            row.line_reference,
        )
        for row in rows
    ]
