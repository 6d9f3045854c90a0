"""The ``PostingStore`` port (``flows.ports``) on the ``postings`` and ``journals`` tables.

Every method is one transaction. A flush of a company runs alone (its jobs share an
ordering key), so journal line numbers are handed out without races; closing a journal
(``stores.journals``) is ordered against numbering by the journal's row. Which journal a line
goes to, and when one is opened in the ledger, the flush decides (``flows.post_journals``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import inbox, journals, postings
from payledger.adapters.db.types import UTCDateTime
from payledger.domain.money import Money
from payledger.domain.posting import DayJournal, JournalClosed, JournalState, Posting, PostingState
from payledger.engine.jobs import NewJob
from payledger.engine.queue import Queue
from payledger.mapping.jsonio import dumps, loads
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.template_versions_model import parse_label

PINNED_VERSIONS = "template_versions"
"""The key of a replayed payment job's payload naming the template versions to map with."""

FLUSH_JOURNALS = "journal.flush"
"""The job kind that writes a company's owed postings to the ledger."""


def flush_job(company: str, now: datetime, wait: timedelta) -> NewJob:
    """The flush of ``company`` for the time slot ``now`` falls in (one per slot)."""
    seconds = wait.total_seconds()
    slot = math.floor(now.timestamp() / seconds) if seconds else now.timestamp()
    run_at = now + wait
    return NewJob(
        FLUSH_JOURNALS,
        {"company": company},
        dedupe_key=f"flush:{company}:{slot}",
        ordering_key=f"flush:{company}",
        run_at=run_at,
    )


def posting_row(posting: Posting, inbox_id: int | None, now: datetime) -> dict[str, Any]:
    """The ``postings`` row of a posting owed now (``inbox_id``: the event it comes from)."""
    return {
        "gateway_txn_id": posting.gateway_txn_id,
        "operation": posting.operation,
        "reference": posting.reference,
        "state": posting.state.value,
        "company": posting.company,
        "business_day": posting.business_day,
        "currency": posting.amount.currency,
        "amount": str(posting.amount.amount),
        "customer_account": posting.customer_account,
        "payload": dumps(posting.payload),
        "target_reference": posting.target_reference,
        "template_version": posting.template_version,
        "inbox_id": inbox_id,
        "created_at": now,
        "updated_at": now,
    }


def _posting(row: Any) -> Posting:
    return Posting(
        reference=row.reference,
        gateway_txn_id=row.gateway_txn_id,
        operation=row.operation,
        company=row.company,
        business_day=row.business_day,
        amount=Money(Decimal(row.amount), row.currency),
        payload=loads(row.payload),
        customer_account=row.customer_account,
        target_reference=row.target_reference,
        state=PostingState(row.state),
        journal_batch_number=row.journal_batch_number or "",
        line_number=row.line_number,
        attempts=row.attempts,
        last_error=row.last_error or "",
        template_version=row.template_version,
    )


def _as_claimed(posting: Posting) -> Posting:
    if posting.state is PostingState.SENDING:
        return replace(posting, state=PostingState.UNKNOWN)
    return posting


class SqlPostingStore:
    def __init__(
        self,
        queue: Queue,
        *,
        flush_wait: timedelta = timedelta(milliseconds=500),
        written_state: PostingState = PostingState.POSTED,
    ) -> None:
        self.queue = queue
        self.written_state = written_state
        """What a posting the ledger accepted becomes: ``posted``, or ``shadow`` in shadow mode
        (where the ledger accepts everything and writes nothing)."""
        self.database = queue.database
        self.flush_wait = flush_wait

    @property
    def _now(self) -> datetime:
        return self.queue.clock.now()

    async def find(self, gateway_txn_id: str, operation: str) -> Posting | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(postings).where(
                        postings.c.gateway_txn_id == gateway_txn_id,
                        postings.c.operation == operation,
                    )
                )
            ).one_or_none()
        return _posting(row) if row else None

    async def record(self, inbox_id: int, owed: Sequence[Posting], *, company: str) -> int:
        now = self._now
        new = 0
        async with self.database.transaction() as conn:
            for posting in owed:
                inserted = await conn.execute(
                    insert_ignoring_duplicates(postings, self.database.dialect)
                    .values(posting_row(posting, inbox_id, now))
                    .returning(postings.c.id)
                )
                new += inserted.scalar_one_or_none() is not None
            await self._mark(conn, inbox_id, "processed", None)
            if new:
                await self.queue.enqueue(conn, flush_job(company, now, self.flush_wait))
        return new

    def batch(self) -> PostingBatch:
        """A store for processing many events at once: their records share one transaction."""
        return PostingBatch(self.queue, flush_wait=self.flush_wait)

    async def record_many(self, recorded: Sequence[Recorded]) -> None:
        """What :meth:`record` does for many events, in one transaction and a few statements."""
        if not recorded:
            return
        now = self._now
        rows = [posting_row(p, r.inbox_id, now) for r in recorded for p in r.owed]
        owing = sorted({r.company for r in recorded if r.owed})
        async with self.database.transaction() as conn:
            if rows:
                await conn.execute(
                    insert_ignoring_duplicates(postings, self.database.dialect), rows
                )
            await conn.execute(
                update(inbox)
                .where(inbox.c.id.in_([r.inbox_id for r in recorded]))
                .values(status="processed", processed_at=now, last_error=None)
            )
            await self.queue.enqueue_many(
                conn, [flush_job(company, now, self.flush_wait) for company in owing]
            )

    async def mark_event(self, inbox_id: int, status: str, error: str | None = None) -> None:
        async with self.database.transaction() as conn:
            await self._mark(conn, inbox_id, status, error)

    async def _mark(
        self, conn: AsyncConnection, inbox_id: int, status: str, error: str | None
    ) -> None:
        await conn.execute(
            update(inbox)
            .where(inbox.c.id == inbox_id)
            .values(status=status, processed_at=self._now, last_error=error)
        )

    async def cancel(self, reference: str) -> bool:
        async with self.database.transaction() as conn:
            result = await conn.execute(
                update(postings)
                .where(
                    postings.c.reference == reference,
                    postings.c.state == PostingState.PLANNED.value,
                )
                .values(state=PostingState.CANCELLED.value, updated_at=self._now)
            )
        return bool(result.rowcount)

    async def claim(
        self, company: str, limit: int, *, retake_sending: bool = True
    ) -> list[Posting]:
        """Take up to ``limit`` postings ``company`` owes, oldest first, marking them sending.

        Flushes of one company never overlap (their jobs share an ordering key), so a posting
        still ``sending`` when a flush starts was left by one whose worker died: with
        ``retake_sending`` (a flush's first round) it is taken again at once, as unknown, to be
        looked up before anything is resent. (Were that worker only stalled, a resend carries
        the same journal line number, which D365 refuses as already existing; the refusal is
        looked up and found written.)
        """
        owed = [PostingState.PLANNED.value, PostingState.UNKNOWN.value]
        if retake_sending:
            owed.append(PostingState.SENDING.value)
        candidates = (
            select(postings.c.id)
            .where(postings.c.company == company, postings.c.state.in_(owed))
            .order_by(postings.c.id)
            .limit(limit)
        )
        if not self.database.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        async with self.database.transaction() as conn:
            ids = list((await conn.execute(candidates)).scalars())
            if not ids:
                return []
            rows = (
                await conn.execute(
                    select(postings).where(postings.c.id.in_(ids)).order_by(postings.c.id)
                )
            ).all()
            await conn.execute(
                update(postings)
                .where(postings.c.id.in_(ids))
                .values(
                    state=PostingState.SENDING.value,
                    attempts=postings.c.attempts + 1,
                    updated_at=self._now,
                )
            )
        # Unknown ones, and those a crashed flush left on their way, are looked up, not resent.
        return [_as_claimed(_posting(row)) for row in rows]

    async def open_journal_numbers(self, company: str) -> set[str]:
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(journals.c.batch_number).where(
                    journals.c.company == company,
                    journals.c.post_state.not_in(_SENT_TO_POST),
                )
            )
            return {number for number in rows.scalars() if number}

    async def latest_journal(
        self, company: str, business_day: str, currency: str, journal_name: str
    ) -> DayJournal | None:
        latest_first = (
            select(journals)
            .where(_journal_key(DayJournal(company, business_day, currency, journal_name)))
            .order_by(journals.c.generation.desc())
            .limit(1)
        )
        async with self.database.transaction() as conn:
            row = (await conn.execute(latest_first)).one_or_none()
        if row is None:
            return None
        return DayJournal(
            company=row.company,
            business_day=row.business_day,
            currency=row.currency,
            journal_name=row.journal_name,
            generation=row.generation,
            batch_number=row.batch_number or "",
            closed=bool(row.closed) or row.post_state != JournalState.UNPOSTED.value,
        )

    async def add_journal(self, journal: DayJournal) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                insert(journals).values(
                    company=journal.company,
                    business_day=journal.business_day,
                    currency=journal.currency,
                    journal_name=journal.journal_name,
                    generation=journal.generation,
                    next_line=1,
                    created_at=self._now,
                )
            )

    async def set_batch_number(self, journal: DayJournal, batch_number: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(journals)
                .where(_journal_key(journal), journals.c.generation == journal.generation)
                .values(batch_number=batch_number)
            )

    async def number_lines(
        self, company: str, batch_number: str, lines: Sequence[Posting]
    ) -> list[Posting]:
        """Give ``lines`` the journal's next numbers; returns those this flush numbered.

        A line is numbered only if its row still has the journal and number this flush saw
        when it claimed the line (compare-and-set): when a flush whose lease ran out is still
        going while its successor retook its lines, only one of them numbers each line, and
        the other does not send it. A line never gets a second number while the first may
        still be on its way, so D365's key on (journal, line number) refuses any resend.
        """
        async with self.database.transaction() as conn:
            # The journal's row is updated first and stays locked until the lines are stored:
            # closing the journal (one update of the same row) waits for them, and once it is
            # closed nothing more is numbered into it.
            last = await conn.scalar(
                update(journals)
                .where(
                    journals.c.batch_number == batch_number,
                    journals.c.company == company,
                    _takes_lines(),
                )
                .values(next_line=journals.c.next_line + len(lines))
                .returning(journals.c.next_line)
            )
            if last is None:
                raise JournalClosed(f"journal {batch_number} takes no new lines")
            first = int(last) - len(lines)
            numbered = [
                replace(
                    line,
                    journal_batch_number=batch_number,
                    line_number=first + offset,
                    payload={
                        **line.payload,
                        "JournalBatchNumber": batch_number,
                        "LineNumber": first + offset,
                    },
                )
                for offset, line in enumerate(lines)
            ]
            await conn.execute(
                update(postings)
                .where(
                    postings.c.reference == bindparam("ref"),
                    postings.c.journal_batch_number.is_not_distinct_from(bindparam("seen_batch")),
                    postings.c.line_number.is_not_distinct_from(bindparam("seen_number")),
                )
                .values(
                    journal_batch_number=batch_number,
                    line_number=bindparam("number"),
                    payload=bindparam("body"),
                ),
                [
                    {
                        "ref": line.reference,
                        "seen_batch": seen.journal_batch_number or None,
                        "seen_number": seen.line_number,
                        "number": line.line_number,
                        "body": dumps(line.payload),
                    }
                    for line, seen in zip(numbered, lines, strict=True)
                ],
            )
            rows = await conn.execute(
                select(postings.c.reference, postings.c.line_number).where(
                    postings.c.reference.in_([line.reference for line in numbered]),
                    postings.c.journal_batch_number == batch_number,
                )
            )
            ours = {(row.reference, row.line_number) for row in rows}
        return [line for line in numbered if (line.reference, line.line_number) in ours]

    async def close_journal(self, batch_number: str) -> None:
        now = self._now
        async with self.database.transaction() as conn:
            await conn.execute(
                update(journals)
                .where(journals.c.batch_number == batch_number)
                .values(
                    closed=1,
                    closed_at=func.coalesce(journals.c.closed_at, at(now)),
                    post_state=JournalState.POSTED.value,
                    posted_at=func.coalesce(journals.c.posted_at, at(now)),
                )
            )

    async def settle(
        self,
        *,
        posted: Sequence[str] = (),
        replan: Sequence[str] = (),
        unknown: Sequence[str] = (),
        dead: Sequence[tuple[str, str]] = (),
    ) -> None:
        now = self._now
        async with self.database.transaction() as conn:
            for references, state in (
                (posted, self.written_state),
                (replan, PostingState.PLANNED),
                (unknown, PostingState.UNKNOWN),
            ):
                if references:
                    values: dict[str, Any] = {"state": state.value, "updated_at": now}
                    if state is self.written_state:
                        values["posted_at"] = now
                    await conn.execute(
                        update(postings)
                        .where(postings.c.reference.in_(list(references)), _in_flight())
                        .values(values)
                    )
            for reference, error in dead:
                await conn.execute(
                    update(postings)
                    .where(postings.c.reference == reference, _in_flight())
                    .values(state=PostingState.DEAD.value, last_error=error[:2000], updated_at=now)
                )

    async def planned_count(self, company: str) -> int:
        async with self.database.transaction() as conn:
            count = await conn.scalar(
                select(func.count()).where(
                    postings.c.company == company,
                    postings.c.state.in_((PostingState.PLANNED.value, PostingState.UNKNOWN.value)),
                )
            )
        return int(count or 0)


@dataclass(frozen=True)
class Recorded:
    """The postings one processed event owes (maybe none)."""

    inbox_id: int
    owed: Sequence[Posting]
    company: str


class PostingBatch(SqlPostingStore):
    """The posting store as the events of one batch see it: what they owe is kept until
    :meth:`commit` writes it for all of them in one transaction; everything else goes
    straight to the database. A posting recorded earlier in the batch is found by
    :meth:`find`, so a refund processed after its sale in the same batch need not wait."""

    def __init__(self, queue: Queue, **options: Any) -> None:
        super().__init__(queue, **options)
        self._recorded: list[Recorded] = []
        self._owed: dict[tuple[str, str], Posting] = {}

    async def find(self, gateway_txn_id: str, operation: str) -> Posting | None:
        pending = self._owed.get((gateway_txn_id, operation))
        return pending or await super().find(gateway_txn_id, operation)

    async def record(self, inbox_id: int, owed: Sequence[Posting], *, company: str) -> int:
        """Kept for :meth:`commit`; counts as new what the batch has not seen yet."""
        fresh = [p for p in owed if (p.gateway_txn_id, p.operation) not in self._owed]
        self._owed.update(((p.gateway_txn_id, p.operation), p) for p in owed)
        self._recorded.append(Recorded(inbox_id, tuple(owed), company))
        return len(fresh)

    async def commit(self) -> None:
        """Write everything recorded; raises (and writes nothing) if the transaction fails."""
        recorded, self._recorded = self._recorded, []
        self._owed.clear()
        await self.record_many(recorded)


def _journal_key(journal: DayJournal) -> Any:
    """The journals of one company, business day, currency and journal name (all generations)."""
    return (
        (journals.c.company == journal.company)
        & (journals.c.business_day == journal.business_day)
        & (journals.c.currency == journal.currency)
        & (journals.c.journal_name == journal.journal_name)
    )


_SENT_TO_POST = (JournalState.POSTING.value, JournalState.POSTED.value)


def at(moment: datetime) -> Any:
    """``moment`` as a bound value of a UTC column (e.g. inside ``coalesce``)."""
    return literal(moment, UTCDateTime())


def _takes_lines() -> Any:
    """A journal takes new lines until it is closed, approved or sent to be posted."""
    return (journals.c.closed == 0) & (journals.c.post_state == JournalState.UNPOSTED.value)


def _in_flight() -> Any:
    """Only postings on their way change by outcome; posted, dead or cancelled ones never do."""
    return postings.c.state.in_((PostingState.SENDING.value, PostingState.UNKNOWN.value))


async def replay_dead_postings(
    queue: Queue,
    *,
    actor: str,
    references: Sequence[str] | None = None,
    original_templates: bool = False,
) -> int:
    """Process the events behind dead postings again, after the data or mapping was fixed.

    The dead posting is removed (its history stays in the audit log) and its inbox event gets
    a new processing job, so the current configuration and templates map it afresh; with
    ``original_templates`` the template version recorded on the posting maps it again instead
    (the other templates the event needs are the current ones).
    """
    now = queue.clock.now()
    filters = [postings.c.state == PostingState.DEAD.value]
    if references:
        filters.append(postings.c.reference.in_(list(references)))
    async with queue.database.transaction() as conn:
        dead = (await conn.execute(select(postings).where(*filters))).all()
        for row in dead:
            await conn.execute(postings.delete().where(postings.c.id == row.id))
            pinned = parse_label(row.template_version) if original_templates else None
            if row.inbox_id is not None:
                payload: dict[str, Any] = {"inbox_id": row.inbox_id}
                if pinned is not None:
                    payload[PINNED_VERSIONS] = {pinned[0]: pinned[1]}
                job = NewJob(
                    PROCESS_PAYMENT,
                    payload,
                    dedupe_key=f"inbox:{row.inbox_id}:replay:{now.isoformat()}",
                    ordering_key=f"replay:{row.gateway_txn_id}",
                )
                await queue.enqueue(conn, job)
            await record_audit(
                conn,
                at=now,
                actor=actor,
                action="posting.replay",
                subject=row.reference,
                detail={
                    "error": row.last_error,
                    "inbox_id": row.inbox_id,
                    "template_version": row.template_version,
                    "templates": "original" if pinned is not None else "current",
                },
            )
    return len(dead)
