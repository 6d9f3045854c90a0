"""The ``NoticeOutbox`` and ``CardLinks`` ports (``flows.ports.notices``): ``dunning_notices``
and ``dunning_card_links``, on SQLite and PostgreSQL.

A notice is inserted under its unique (case, kind, attempt) key together with its link's row
and a ``dunning.notices`` job that sends it; claims lock with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL and take SQLite's write lock (``BEGIN IMMEDIATE``) otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Row

from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import dunning_card_links as links
from payledger.adapters.db.tables import dunning_notices as notices
from payledger.domain.card_links import CardLink
from payledger.domain.clock import Clock
from payledger.domain.dunning import DunningCase, NoticeKind
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue
from payledger.flows.ports.notices import LinkUse, Notice, NoticeStatus

SEND_NOTICES = "dunning.notices"
"""The job kind that sends the notices due."""

_PENDING, _SENDING = NoticeStatus.PENDING.value, NoticeStatus.SENDING.value


class SqlNoticeOutbox:
    """Customer notices waiting in the database."""

    def __init__(self, database: Database, clock: Clock, queue: Queue | None = None) -> None:
        self.database = database
        self.clock = clock
        self.queue = queue
        """Woken with a send job for each new notice (None: the schedule sends them)."""

    def _locking(self, query: Any) -> Any:
        if self.database.is_sqlite:
            return query
        return query.with_for_update(of=notices, skip_locked=True)  # not the joined link

    async def add(
        self, case: DunningCase, kind: NoticeKind, *, message_id: str, link: CardLink | None
    ) -> bool:
        now = self.clock.now()
        async with self.database.transaction() as conn:
            new_id = await conn.scalar(
                insert_ignoring_duplicates(notices, self.database.dialect)
                .values(
                    case_id=case.id,
                    kind=kind.value,
                    attempt_no=case.last_attempt.no,
                    status=_PENDING,
                    message_id=message_id,
                    link_nonce=link.nonce if link else None,
                    next_try_at=now,
                    created_at=now,
                )
                .returning(notices.c.id)
            )
            if new_id is None:
                return False
            if link is not None:
                await conn.execute(
                    links.insert().values(
                        nonce=link.nonce,
                        case_id=link.case_id,
                        expires_at=link.expires_at,
                        status=LinkUse.OPEN.value,
                        created_at=now,
                    )
                )
            if self.queue is not None:
                job = NewJob(
                    SEND_NOTICES, dedupe_key=f"dunning-notice:{new_id}", ordering_key=SEND_NOTICES
                )
                await self.queue.enqueue(conn, job)
        return True

    async def claim(
        self, now: datetime, *, limit: int, owner: str, lease: timedelta
    ) -> list[Notice]:
        due = or_(
            and_(notices.c.status == _PENDING, notices.c.next_try_at <= now),
            and_(notices.c.status == _SENDING, notices.c.lease_until < now),
        )
        query = self._locking(
            select(notices, links.c.expires_at)
            .outerjoin(links, links.c.nonce == notices.c.link_nonce)
            .where(due)
            .order_by(notices.c.id)
            .limit(limit)
        )
        async with self.database.transaction() as conn:
            rows = (await conn.execute(query)).all()
            if rows:
                await conn.execute(
                    update(notices)
                    .where(notices.c.id.in_([row.id for row in rows]))
                    .values(
                        status=_SENDING,
                        lease_owner=owner,
                        lease_until=now + lease,
                        tries=notices.c.tries + 1,
                    )
                )
        return [_notice(row) for row in rows]

    async def sent(self, notice_id: int, *, to: str) -> None:
        await self._settle(notice_id, status=NoticeStatus.SENT.value, recipient=to, error="")

    async def later(self, notice_id: int, *, error: str, at: datetime) -> None:
        await self._settle(notice_id, status=_PENDING, error=error, next_try_at=at)

    async def no_address(self, notice_id: int) -> None:
        await self._settle(notice_id, status=NoticeStatus.NO_ADDRESS.value)

    async def _settle(self, notice_id: int, **values: Any) -> None:
        if values["status"] == NoticeStatus.SENT.value:
            values["sent_at"] = self.clock.now()
        async with self.database.transaction() as conn:
            await conn.execute(
                update(notices)
                .where(notices.c.id == notice_id)
                .values(**values, lease_owner=None, lease_until=None)
            )


def _notice(row: Row[Any]) -> Notice:
    link = None
    if row.link_nonce:
        link = CardLink(row.case_id, row.expires_at, row.link_nonce)
    return Notice(
        id=row.id,
        case_id=row.case_id,
        kind=NoticeKind(row.kind),
        attempt_no=row.attempt_no,
        message_id=row.message_id,
        link=link,
        tries=row.tries,
        resumed=row.status == _SENDING,
    )


class SqlCardLinks:
    """The single-use rows of card-update links."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    async def state(self, nonce: str) -> LinkUse:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(select(links.c.status).where(links.c.nonce == nonce))
            ).one_or_none()
        return LinkUse(row.status) if row is not None else LinkUse.UNKNOWN

    async def begin(self, nonce: str, *, max_posts: int) -> LinkUse:
        async with self.database.transaction() as conn:
            held = await conn.execute(
                update(links)
                .where(
                    links.c.nonce == nonce,
                    links.c.status == LinkUse.OPEN.value,
                    links.c.posts < max_posts,
                )
                .values(status=LinkUse.BUSY.value, posts=links.c.posts + 1)
            )
            if held.rowcount == 1:
                return LinkUse.OPEN
            row = (await conn.execute(select(links).where(links.c.nonce == nonce))).one_or_none()
        if row is None:
            return LinkUse.UNKNOWN
        if row.status == LinkUse.OPEN.value:
            return LinkUse.TOO_MANY
        return LinkUse(row.status)

    async def finish(self, nonce: str, *, used: bool) -> None:
        values: dict[str, Any] = {"status": LinkUse.OPEN.value}
        if used:
            values = {"status": LinkUse.USED.value, "used_at": self.clock.now()}
        async with self.database.transaction() as conn:
            await conn.execute(
                update(links)
                .where(links.c.nonce == nonce, links.c.status == LinkUse.BUSY.value)
                .values(**values)
            )
