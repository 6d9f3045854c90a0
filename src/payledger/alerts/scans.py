"""The scheduled scans that raise alerts: dead letters, waiting events, D365 outage,
journals left unposted.

Each scan reads durable state only (jobs, postings, inbox), so it does not matter which
process runs it or whether the process that saw the failure is still alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import inbox, jobs, journals, postings, watermarks
from payledger.alerts.center import AlertCenter
from payledger.alerts.model import Severity
from payledger.alerts.store import Occurrence
from payledger.flows.post_ready_journals import alert_keys
from payledger.stores.postings import FLUSH_JOURNALS

SCAN_ALERTS = "alerts.check"
"""The job kind of the scheduled scans (they dispatch what is due when done); the value
predates the name and stays, since queued jobs and the schedule carry it."""
DEAD_LETTER_MARK = "alerts:dead-letters"
SETTLE_LAG = timedelta(seconds=5)
"""Dead letters are looked at once they are this old, so a transaction that was still
committing when a scan ran is seen by the next scan instead of being skipped."""
SHOWN = 10


@dataclass(frozen=True)
class Thresholds:
    event_wait: timedelta = timedelta(minutes=15)
    """An event not processed after this long raises ``events-waiting``."""
    outage_after_failures: int = 5
    """A journal flush failing this many times in a row raises ``d365-outage``."""


async def run_scans(center: AlertCenter, thresholds: Thresholds) -> list[Occurrence]:
    """Look for trouble and record what was found (one transaction); returns the findings."""
    database, now = center.queue.database, center.queue.clock.now()
    async with database.transaction() as conn:
        found = [
            *await dead_letters(conn, now, dialect=database.dialect),
            *await waiting_events(conn, now, thresholds.event_wait),
            *await ledger_outage(conn, thresholds.outage_after_failures),
        ]
        for occurrence in found:
            await center.record(conn, occurrence)
    return found


async def dead_letters(conn: AsyncConnection, now: datetime, *, dialect: str) -> list[Occurrence]:
    """Jobs and postings that went dead since the last scan.

    Jobs that died of refused credentials are left to the ``auth:<system>`` alert, which is
    raised the moment the error happens.
    """
    since = await conn.scalar(
        select(watermarks.c.value).where(watermarks.c.name == DEAD_LETTER_MARK)
    )
    until = now - SETTLE_LAG
    job_window = [jobs.c.status == "dead", jobs.c.finished_at <= until]
    posting_window = [postings.c.state == "dead", postings.c.updated_at <= until]
    if since is not None:
        job_window.append(jobs.c.finished_at > since)
        posting_window.append(postings.c.updated_at > since)
    not_auth = or_(jobs.c.last_error.is_(None), ~jobs.c.last_error.like("%AuthError:%"))
    dead_jobs = (
        await conn.execute(
            select(jobs.c.id, jobs.c.kind, jobs.c.last_error)
            .where(*job_window, not_auth)
            .order_by(jobs.c.id)
        )
    ).all()
    dead_postings = (
        await conn.execute(
            select(postings.c.reference, postings.c.operation, postings.c.last_error)
            .where(*posting_window)
            .order_by(postings.c.id)
        )
    ).all()
    await _move_mark(conn, until, dialect)
    total = len(dead_jobs) + len(dead_postings)
    if not total:
        return []
    lines = [f"job {row.kind} #{row.id}: {_short(row.last_error)}" for row in dead_jobs] + [
        f"posting {row.reference} ({row.operation}): {_short(row.last_error)}"
        for row in dead_postings
    ]
    more = f"\n... and {total - SHOWN} more" if total > SHOWN else ""
    return [
        Occurrence(
            key="dead-letters",
            title="New dead letters: work that needs a human",
            text="\n".join(lines[:SHOWN])
            + more
            + "\nFix the cause, then `payledger replay` (see `payledger status`).",
            severity=Severity.WARNING,
            facts={"dead jobs": str(len(dead_jobs)), "dead postings": str(len(dead_postings))},
            count=total,
        )
    ]


async def waiting_events(
    conn: AsyncConnection, now: datetime, limit: timedelta
) -> list[Occurrence]:
    """Events still unprocessed after ``limit`` (e.g. a refund waiting for its sale)."""
    stale = (inbox.c.status == "received") & (inbox.c.received_at <= now - limit)
    waiting = int(await conn.scalar(select(func.count()).where(stale)) or 0)
    if not waiting:
        return []
    oldest = (
        await conn.execute(
            select(inbox.c.id, inbox.c.external_id, inbox.c.received_at)
            .where(stale)
            .order_by(inbox.c.received_at)
            .limit(1)
        )
    ).one()
    last_error = await conn.scalar(
        select(jobs.c.last_error).where(jobs.c.dedupe_key == f"inbox:{oldest.id}")
    )
    age = now - oldest.received_at
    return [
        Occurrence(
            key="events-waiting",
            title=f"Events waiting longer than {_duration(limit)}",
            text=f"{waiting} event(s) not yet processed; the oldest, {oldest.external_id}, has "
            f"waited {_duration(age)}. Last attempt: {_short(last_error) or 'not run yet'}",
            facts={
                "waiting": str(waiting),
                "oldest event": oldest.external_id,
                "oldest age": _duration(age),
            },
        )
    ]


async def ledger_outage(conn: AsyncConnection, after_failures: int) -> list[Occurrence]:
    """A journal flush that keeps failing: D365 is down, refusing or throttling writes."""
    failing = (
        await conn.execute(
            select(jobs.c.id, jobs.c.attempts, jobs.c.last_error, jobs.c.history)
            .where(
                jobs.c.kind == FLUSH_JOURNALS,
                jobs.c.status == "pending",
                jobs.c.attempts >= after_failures,
                jobs.c.last_error.is_not(None),
            )
            .order_by(jobs.c.attempts.desc())
            .limit(1)
        )
    ).one_or_none()
    if failing is None:
        return []
    owed = await conn.scalar(
        select(func.count()).where(postings.c.state.in_(("planned", "sending", "unknown")))
    )
    since = _first_failure(failing.history)
    return [
        Occurrence(
            key="d365-outage",
            title="D365 unavailable: journal writes keep failing",
            text=f"The journal flush failed {failing.attempts} times in a row"
            + (f" since {since}" if since else "")
            + f"; {owed} posting(s) wait. Last error: {_short(failing.last_error)}",
            severity=Severity.CRITICAL,
            facts={"failed attempts": str(failing.attempts), "postings waiting": str(owed)},
        )
    ]


async def unposted_journals(
    conn: AsyncConnection, now: datetime, limit: timedelta
) -> list[Occurrence]:
    """Journals with lines, still unposted ``limit`` after they were opened (every mode)."""
    has_lines = exists().where(
        postings.c.journal_batch_number == journals.c.batch_number,
        postings.c.state.in_(("posted", "shadow")),
    )
    overdue = (
        await conn.execute(
            select(journals)
            .where(
                journals.c.batch_number.is_not(None),
                journals.c.post_state != "posted",
                journals.c.created_at <= now - limit,
                has_lines,
            )
            .order_by(journals.c.created_at)
        )
    ).all()
    return [
        Occurrence(
            key=alert_keys(row.batch_number)[1],
            title=f"Journal {row.batch_number} unposted for {_duration(now - row.created_at)}",
            text=f"Payment journal {row.batch_number} ({row.business_day}, {row.currency}) "
            f"was opened {_duration(now - row.created_at)} ago and is still {row.post_state}"
            + (f": {_short(row.post_error)}" if row.post_error else "")
            + ". Post it in D365, or with `payledger journals post "
            + f"{row.batch_number}`.",
            facts={
                "journal": row.batch_number,
                "business day": row.business_day,
                "state": row.post_state,
            },
        )
        for row in overdue
    ]


async def record_unposted_journals(center: AlertCenter, limit: timedelta) -> list[Occurrence]:
    """Raise the overdue-journal alerts (the journal-posting job runs this check)."""
    async with center.queue.database.transaction() as conn:
        found = await unposted_journals(conn, center.queue.clock.now(), limit)
        for occurrence in found:
            await center.record(conn, occurrence)
    return found


async def _move_mark(conn: AsyncConnection, value: datetime, dialect: str) -> None:
    inserted = await conn.execute(
        insert_ignoring_duplicates(watermarks, dialect)
        .values(name=DEAD_LETTER_MARK, value=value, updated_at=value)
        .returning(watermarks.c.name)
    )
    if inserted.scalar_one_or_none() is None:
        await conn.execute(
            update(watermarks)
            .where(watermarks.c.name == DEAD_LETTER_MARK, watermarks.c.value < value)
            .values(value=value, updated_at=value)
        )


def _first_failure(history: Any) -> str:
    """When the current run of failures began (a replay starts a new run)."""
    first = ""
    for entry in history or []:
        if isinstance(entry, dict) and "replayed_at" in entry:
            first = ""
        elif isinstance(entry, dict) and "error" in entry and not first:
            first = str(entry.get("at", ""))[:19]
    return first


def _short(error: str | None, limit: int = 300) -> str:
    text = (error or "").strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"
