"""Durable deduplication of alerts on the ``alerts`` table: one row per alert key.

An occurrence adds to the key's ``pending`` count. The first pending occurrence makes the key
due after a short gathering time, or, if an alert of that key went out less than a window ago,
when that window ends; later occurrences only add to the count. Sending takes the pending
count away. A storm of any size therefore sends one alert, then at most one per window, each
with its count, however many processes report occurrences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import alerts
from payledger.alerts.model import Alert, Severity


@dataclass(frozen=True)
class Occurrence:
    key: str
    title: str
    text: str
    severity: Severity = Severity.WARNING
    facts: Mapping[str, str] | None = None
    count: int = 1


@dataclass(frozen=True)
class Windows:
    gather: timedelta = timedelta(seconds=30)
    """How long the first occurrence waits for others to share its alert."""
    dedup: timedelta = timedelta(minutes=15)
    """Least time between two alerts of one key."""


class AlertStore:
    def __init__(self, database: Database, windows: Windows) -> None:
        self.database = database
        self.windows = windows

    async def record(
        self, conn: AsyncConnection, occurrence: Occurrence, now: datetime
    ) -> datetime:
        """Count ``occurrence`` in the caller's transaction; returns when its key is due."""
        latest = {
            "severity": occurrence.severity.value,
            "title": occurrence.title[:200],
            "text": occurrence.text,
            "facts": dict(occurrence.facts or {}),
            "last_at": now,
        }
        first_due = now + self.windows.gather
        inserted = await conn.execute(
            insert_ignoring_duplicates(alerts, self.database.dialect)
            .values(
                key=occurrence.key,
                pending=occurrence.count,
                first_at=now,
                due_at=first_due,
                total=occurrence.count,
                **latest,
            )
            .returning(alerts.c.key)
        )
        if inserted.scalar_one_or_none() is not None:
            return first_due
        current = select(alerts.c.pending, alerts.c.sent_at, alerts.c.due_at).where(
            alerts.c.key == occurrence.key
        )
        if not self.database.is_sqlite:
            current = current.with_for_update()
        row = (await conn.execute(current)).one()
        counted = {
            "pending": alerts.c.pending + occurrence.count,
            "total": alerts.c.total + occurrence.count,
            **latest,
        }
        if row.pending > 0:
            await conn.execute(update(alerts).where(alerts.c.key == occurrence.key).values(counted))
            return row.due_at or first_due
        due = first_due
        if row.sent_at is not None:
            due = max(due, row.sent_at + self.windows.dedup)
        await conn.execute(
            update(alerts)
            .where(alerts.c.key == occurrence.key)
            .values({**counted, "first_at": now, "due_at": due})
        )
        return due

    async def clear(self, conn: AsyncConnection, key: str) -> None:
        """Drop the pending occurrences of ``key`` (what they warned of is over)."""
        await conn.execute(
            update(alerts).where(alerts.c.key == key).values(pending=0, due_at=None, first_at=None)
        )

    async def claim_due(self, now: datetime, lease: timedelta) -> list[Alert]:
        """Alerts whose pending occurrences are due, each with its count, held for ``lease``.

        Held means due again only after ``lease``: a second dispatcher does not send them
        meanwhile, and if this one dies before :meth:`mark_sent` they go out later.
        """
        is_due = (alerts.c.pending > 0) & (alerts.c.due_at <= now)
        async with self.database.transaction() as conn:
            candidates = select(alerts.c.key).where(is_due).order_by(alerts.c.due_at)
            if not self.database.is_sqlite:
                candidates = candidates.with_for_update(skip_locked=True)
            keys = list((await conn.execute(candidates)).scalars())
            if not keys:
                return []
            rows = (await conn.execute(select(alerts).where(alerts.c.key.in_(keys)))).all()
            await conn.execute(
                update(alerts).where(alerts.c.key.in_(keys)).values(due_at=now + lease)
            )
        return sorted((_alert(row) for row in rows), key=lambda alert: keys.index(alert.key))

    async def mark_sent(self, alert: Alert, now: datetime) -> None:
        """Take the sent occurrences off the count; any that came since wait a window."""
        async with self.database.transaction() as conn:
            await conn.execute(
                update(alerts)
                .where(alerts.c.key == alert.key)
                .values(pending=alerts.c.pending - alert.count, sent_at=now, sent=alerts.c.sent + 1)
            )
            left = await conn.scalar(select(alerts.c.pending).where(alerts.c.key == alert.key))
            later = {"due_at": now + self.windows.dedup, "first_at": now} if left else {}
            await conn.execute(
                update(alerts)
                .where(alerts.c.key == alert.key)
                .values(later or {"due_at": None, "first_at": None})
            )

    async def postpone(self, alert: Alert, until: datetime) -> None:
        """Not delivered: try again at ``until``, with whatever has been counted by then."""
        async with self.database.transaction() as conn:
            await conn.execute(update(alerts).where(alerts.c.key == alert.key).values(due_at=until))

    async def rows(self) -> list[dict[str, Any]]:
        """Every alert key with its counters (for status pages and tests)."""
        async with self.database.transaction() as conn:
            result = await conn.execute(select(alerts).order_by(alerts.c.key))
            return [dict(row._mapping) for row in result]


def _alert(row: Any) -> Alert:
    return Alert(
        key=row.key,
        title=row.title,
        text=row.text,
        severity=Severity(row.severity),
        count=row.pending,
        first_at=row.first_at,
        last_at=row.last_at,
        facts={str(k): str(v) for k, v in (row.facts or {}).items()},
    )
