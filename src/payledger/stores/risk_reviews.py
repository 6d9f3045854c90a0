"""The review queue (``ReviewQueue``, ``flows.ports.risk``) on ``risk_reviews`` and
``risk_releases``: one review per held item, and the jobs its approval releases.

Holding and deciding meet on the review row: a hold adds its release only while the row is
``pending`` (under the row's lock on PostgreSQL; SQLite writes one transaction at a time),
and a decision is one conditional UPDATE from ``pending``, which enqueues the releases in
its own transaction. So whoever decides first decides, a release is enqueued once, and a
release added concurrently either makes the approval's list or sees the approval and goes
ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import inbox
from payledger.adapters.db.tables import risk_releases as rel
from payledger.adapters.db.tables import risk_reviews as rr
from payledger.domain.errors import DomainError
from payledger.domain.money import Money
from payledger.domain.risk import Assessment, Reason, RiskSubject
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue
from payledger.flows.ports.risk import Decided, HeldKind, ReleaseJob, ReviewItem, ReviewState


@dataclass(frozen=True)
class Release:
    """The job that carries a held item on once it is approved (enqueued once, by key)."""

    job_kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str = ""
    inbox_id: int | None = None
    """The held inbox event, marked ``held`` meanwhile (``rejected`` if it is rejected)."""


_EVENT_STATUS = {ReviewState.PENDING: "held", ReviewState.REJECTED: "rejected"}
"""What a held inbox event's status says while its review is pending, and once rejected."""


class SqlReviewQueue:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.database = queue.database

    async def hold(
        self,
        kind: HeldKind,
        ref: str,
        subject: RiskSubject,
        assessment: Assessment,
        release: Release,
        *,
        open_review: bool,
    ) -> ReviewState | None:
        """Hold ``release`` while the review of (``kind``, ``ref``) is pending, opening it
        when ``open_review``; the review's state, None when there is none."""
        now = self.queue.clock.now()
        async with self.database.transaction() as conn:
            row = await self._locked(conn, kind, ref)
            if row is None and open_review:
                await conn.execute(
                    insert_ignoring_duplicates(rr, self.database.dialect).values(
                        item_kind=kind.value,
                        item_ref=ref[:120],
                        transaction_id=subject.transaction_id,
                        state=ReviewState.PENDING.value,
                        score=assessment.score,
                        reasons=[
                            {"code": r.code, "detail": r.detail, "weight": r.weight}
                            for r in assessment.reasons
                        ],
                        amount=str(subject.amount.amount),
                        currency=subject.amount.currency,
                        customer_id=subject.customer_id[:80],
                        created_at=now,
                    )
                )
                row = await self._locked(conn, kind, ref)
            if row is None:
                return None
            state = ReviewState(row.state)
            if state is ReviewState.PENDING:
                await conn.execute(
                    insert_ignoring_duplicates(rel, self.database.dialect).values(
                        review_id=row.id,
                        job_kind=release.job_kind,
                        payload=release.payload,
                        dedupe_key=release.dedupe_key,
                        created_at=now,
                    )
                )
            if release.inbox_id is not None and state is not ReviewState.APPROVED:
                await _mark_event(conn, [release.inbox_id], _EVENT_STATUS[state], now)
            return state

    async def _locked(self, conn: AsyncConnection, kind: HeldKind, ref: str) -> Any:
        """The review of (``kind``, ``ref``), locked; a posting's is also the approved review
        of the charge or refund that made its transaction."""
        own = and_(rr.c.item_kind == kind.value, rr.c.item_ref == ref[:120])
        if kind is HeldKind.POSTING:
            made = and_(
                rr.c.item_kind.in_((HeldKind.CHARGE.value, HeldKind.REFUND.value)),
                rr.c.transaction_id == ref,
                rr.c.state == ReviewState.APPROVED.value,
            )
            own = or_(own, made)
        query = select(rr.c.id, rr.c.state).where(own).order_by(rr.c.id).limit(1)
        if not self.database.is_sqlite:
            query = query.with_for_update()
        return (await conn.execute(query)).one_or_none()

    async def review(self, kind: HeldKind, ref: str) -> ReviewItem | None:
        query = select(rr).where(rr.c.item_kind == kind.value, rr.c.item_ref == ref[:120])
        async with self.database.transaction() as conn:
            row = (await conn.execute(query)).one_or_none()
        return review_item(row) if row is not None else None

    async def reviews_under(self, kind: HeldKind, ref_prefix: str) -> list[ReviewItem]:
        query = (
            select(rr)
            .where(
                rr.c.item_kind == kind.value,
                rr.c.item_ref.startswith(ref_prefix[:120], autoescape=True),
            )
            .order_by(rr.c.id)
        )
        async with self.database.transaction() as conn:
            return [review_item(row) for row in await conn.execute(query)]

    async def hold_item(
        self,
        kind: HeldKind,
        ref: str,
        subject: RiskSubject,
        assessment: Assessment,
        release: ReleaseJob,
    ) -> ReviewItem:
        """A charge or refund held (``HeldItems``): its release is keyed by what it runs, so
        each attempt that met the pending review is released once."""
        runs = ":".join(f"{k}={v}" for k, v in sorted(release.payload.items()))
        key = f"risk-release:{kind.value}:{ref}:{release.job_kind}:{runs}"[:200]
        held = Release(release.job_kind, dict(release.payload), key)
        await self.hold(kind, ref, subject, assessment, held, open_review=True)
        item = await self.review(kind, ref)
        assert item is not None  # opened now or before, never deleted
        return item

    async def link(self, kind: HeldKind, ref: str, transaction_id: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(rr)
                .where(rr.c.item_kind == kind.value, rr.c.item_ref == ref[:120])
                .values(transaction_id=transaction_id[:64])
            )

    async def items(self, state: ReviewState | None = ReviewState.PENDING) -> list[ReviewItem]:
        query = select(rr).order_by(rr.c.created_at, rr.c.id)
        if state is not None:
            query = query.where(rr.c.state == state.value)
        async with self.database.transaction() as conn:
            return [review_item(row) for row in await conn.execute(query)]

    async def item(self, item_id: int) -> ReviewItem | None:
        async with self.database.transaction() as conn:
            row = (await conn.execute(select(rr).where(rr.c.id == item_id))).one_or_none()
        return review_item(row) if row is not None else None

    async def decide(
        self, item_id: int, *, approve: bool, actor: str, comment: str, at: datetime
    ) -> Decided:
        state = ReviewState.APPROVED if approve else ReviewState.REJECTED
        async with self.database.transaction() as conn:
            changed = await conn.execute(
                update(rr)
                .where(rr.c.id == item_id, rr.c.state == ReviewState.PENDING.value)
                .values(state=state.value, decided_by=actor[:120], decided_at=at, comment=comment)
                .returning(rr.c.id)
            )
            applied = changed.scalar_one_or_none() is not None
            row = (await conn.execute(select(rr).where(rr.c.id == item_id))).one_or_none()
            if row is None:
                raise DomainError(f"review item {item_id} does not exist")
            item = review_item(row)
            released = await self._settle(conn, item, at) if applied else 0
            if applied:
                await record_audit(
                    conn,
                    at=at,
                    actor=actor,
                    action=f"risk.{'approve' if approve else 'reject'}",
                    subject=f"risk-review-{item.transaction_id or item.ref}-{item.id}",
                    detail={
                        "kind": item.kind.value,
                        "ref": item.ref,
                        "score": item.score,
                        "comment": comment,
                        "released": released,
                    },
                )
        return Decided(item, applied, released)

    async def _settle(self, conn: AsyncConnection, item: ReviewItem, at: datetime) -> int:
        """Enqueue the releases of an approved item, or mark a rejected posting's events. A
        rejected charge or refund is released too: its step runs again, finds the rejection
        and records it where its own state is kept (never making it)."""
        item_id, state = item.id, item.state
        rows = (
            await conn.execute(select(rel).where(rel.c.review_id == item_id).order_by(rel.c.id))
        ).all()
        if state is ReviewState.REJECTED and item.kind is HeldKind.POSTING:
            events = [int(r.payload["inbox_id"]) for r in rows if "inbox_id" in r.payload]
            await _mark_event(conn, events, state.value, at)
            return 0
        jobs = [
            NewJob(
                r.job_kind,
                dict(r.payload),
                dedupe_key=r.dedupe_key,
                ordering_key=f"risk-release:{item_id}",
            )
            for r in rows
        ]
        await self.queue.enqueue_many(conn, jobs)
        return len(jobs)


async def _mark_event(
    conn: AsyncConnection, inbox_ids: list[int], status: str, at: datetime
) -> None:
    if inbox_ids:
        await conn.execute(
            update(inbox)
            .where(inbox.c.id.in_(inbox_ids))
            .values(status=status, processed_at=at, last_error=None)
        )


def review_item(row: Any) -> ReviewItem:
    return ReviewItem(
        id=int(row.id),
        kind=HeldKind(row.item_kind),
        ref=row.item_ref,
        transaction_id=row.transaction_id,
        state=ReviewState(row.state),
        score=float(row.score),
        reasons=tuple(
            Reason(str(r.get("code", "")), str(r.get("detail", "")), float(r.get("weight", 0)))
            for r in (row.reasons or [])
            if isinstance(r, dict)
        ),
        amount=Money(Decimal(row.amount), row.currency),
        customer_id=row.customer_id,
        created_at=row.created_at,
        decided_by=row.decided_by or "",
        decided_at=row.decided_at,
        comment=row.comment,
    )
