"""What ``payledger status`` shows: inbox, jobs, postings and dead letters at a glance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import inbox, jobs, postings


@dataclass
class Overview:
    inbox: dict[str, int] = field(default_factory=dict)
    oldest_unprocessed: datetime | None = None
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)
    """(kind, status) → count."""
    postings: dict[tuple[str, str], int] = field(default_factory=dict)
    """(operation, state) → count."""
    dead_jobs: list[dict[str, Any]] = field(default_factory=list)
    dead_postings: list[dict[str, Any]] = field(default_factory=list)


async def overview(database: Database, *, dead_limit: int = 20) -> Overview:
    result = Overview()
    async with database.transaction() as conn:
        result.inbox = {
            status: count
            for status, count in await conn.execute(
                select(inbox.c.status, func.count()).group_by(inbox.c.status)
            )
        }
        result.oldest_unprocessed = await conn.scalar(
            select(func.min(inbox.c.received_at)).where(inbox.c.status == "received")
        )
        by_kind = select(jobs.c.kind, jobs.c.status, func.count()).group_by(
            jobs.c.kind, jobs.c.status
        )
        result.jobs = {(kind, status): count for kind, status, count in await conn.execute(by_kind)}
        by_operation = select(postings.c.operation, postings.c.state, func.count()).group_by(
            postings.c.operation, postings.c.state
        )
        result.postings = {
            (op, state): count for op, state, count in await conn.execute(by_operation)
        }
        dead_jobs = (
            select(jobs.c.id, jobs.c.kind, jobs.c.attempts, jobs.c.finished_at, jobs.c.last_error)
            .where(jobs.c.status == "dead")
            .order_by(jobs.c.id.desc())
            .limit(dead_limit)
        )
        result.dead_jobs = [dict(row._mapping) for row in await conn.execute(dead_jobs)]
        dead_postings = (
            select(
                postings.c.reference,
                postings.c.gateway_txn_id,
                postings.c.operation,
                postings.c.amount,
                postings.c.currency,
                postings.c.last_error,
            )
            .where(postings.c.state == "dead")
            .order_by(postings.c.id.desc())
            .limit(dead_limit)
        )
        result.dead_postings = [dict(row._mapping) for row in await conn.execute(dead_postings)]
    return result
