"""Console sessions kept on the server, so that signing out ends one for good.

No flow port: the web console signs in and out with it.

The browser holds only a random session id (in a signed cookie). The table holds the id's
SHA-256 digest, the token it was opened with, who, until when, and when it was ended. A
session counts while it is neither ended nor expired and its token is neither revoked nor
expired: one lookup by primary key, joined to the token, per request.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.tables import api_tokens, console_sessions
from payledger.domain.clock import Clock
from payledger.stores.api_clients import Scope, parse_scopes


def digest(session_id: str) -> str:
    """SHA-256 in base64url: a hex digest holds a digit run that looks like a card number about
    once in 2,000, which ``payledger scan-pan`` would report."""
    return base64.urlsafe_b64encode(hashlib.sha256(session_id.encode()).digest()).decode()[:43]


@dataclass(frozen=True)
class ConsoleSession:
    """A session that still counts, with the powers of its token."""

    user: str
    token_id: int
    scopes: frozenset[Scope]
    expires_at: datetime


class ConsoleSessions:
    """The ``console_sessions`` table."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def open(
        self, conn: AsyncConnection, user: str, token_id: int, *, lifetime: timedelta
    ) -> str:
        """A new session's id (the only copy: it goes into the cookie), audited."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock.now()
        await conn.execute(
            insert(console_sessions).values(
                session_hash=digest(session_id),
                token_id=token_id,
                user_name=user,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        await record_audit(
            conn,
            at=now,
            actor=f"console:{user}",
            action="console.signed_in",
            subject=f"api_client:{user}",
            detail={"token_id": token_id},
        )
        return session_id

    async def find(self, conn: AsyncConnection, session_id: str) -> ConsoleSession | None:
        """The session ``session_id`` names, if it still counts."""
        row = (
            await conn.execute(
                select(
                    console_sessions.c.user_name,
                    console_sessions.c.token_id,
                    console_sessions.c.expires_at,
                    console_sessions.c.ended_at,
                    api_tokens.c.scopes,
                    api_tokens.c.revoked_at,
                    api_tokens.c.expires_at.label("token_expires_at"),
                )
                .join(api_tokens, api_tokens.c.id == console_sessions.c.token_id)
                .where(console_sessions.c.session_hash == digest(session_id))
            )
        ).one_or_none()
        now = self.clock.now()
        if row is None or row.ended_at is not None or row.expires_at <= now:
            return None
        if row.revoked_at is not None or (
            row.token_expires_at is not None and row.token_expires_at <= now
        ):
            return None
        scopes = frozenset(parse_scopes(row.scopes.split()))
        return ConsoleSession(row.user_name, row.token_id, scopes, row.expires_at)

    async def end(self, conn: AsyncConnection, session_id: str) -> bool:
        """Sign out: the session stops counting at once; False when it had already ended."""
        now = self.clock.now()
        ended = await conn.execute(
            update(console_sessions)
            .where(
                console_sessions.c.session_hash == digest(session_id),
                console_sessions.c.ended_at.is_(None),
            )
            .values(ended_at=now)
            .returning(console_sessions.c.user_name, console_sessions.c.token_id)
        )
        row = ended.one_or_none()
        if row is None:
            return False
        await record_audit(
            conn,
            at=now,
            actor=f"console:{row.user_name}",
            action="console.signed_out",
            subject=f"api_client:{row.user_name}",
            detail={"token_id": row.token_id},
        )
        return True

    async def prune(self, conn: AsyncConnection) -> int:
        """Forget sessions that no longer count because they ended or expired."""
        now = self.clock.now()
        pruned = await conn.execute(
            delete(console_sessions).where(
                or_(console_sessions.c.expires_at <= now, console_sessions.c.ended_at.is_not(None))
            )
        )
        return pruned.rowcount
