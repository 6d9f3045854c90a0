"""The audit log: who changed what, for every operator action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.tables import audit_log


async def record_audit(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction (never holds secret values)."""
    await conn.execute(
        insert(audit_log).values(
            at=at, actor=actor, action=action, subject=subject, detail=detail or {}
        )
    )
