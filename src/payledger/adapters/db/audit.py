"""The audit log: who changed what, for every operator action."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Protocol

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


class Versioned(Protocol):
    """A record with a status and an optimistic-lock version (a subscription, a dunning case)."""

    @property
    def status(self) -> Enum: ...

    @property
    def version(self) -> int: ...


async def record_change(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    changed: Versioned,
    detail: dict[str, Any],
) -> None:
    """:func:`record_audit` of a change to ``changed``, its new status and version in the
    detail."""
    state = {"status": changed.status.value, "version": changed.version}
    await record_audit(
        conn, at=at, actor=actor, action=action, subject=subject, detail={**state, **detail}
    )
