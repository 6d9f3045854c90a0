"""Backfills in the audit log: who brought which period in, with the counts.

No flow port: ``payledger backfill`` writes the entry once its days are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.database import Database


async def audit_backfill(
    database: Database, *, at: datetime, actor: str, first: str, last: str, detail: dict[str, Any]
) -> None:
    """The backfill in the audit log (who brought which period in, with the counts)."""
    async with database.transaction() as conn:
        await record_audit(
            conn,
            at=at,
            actor=actor,
            action="paytrace.backfill",
            subject=f"{first}..{last}",
            detail=detail,
        )
