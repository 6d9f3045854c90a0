"""The ``JournalBook`` port: ``FakePostingStore`` behaves as ``SqlJournalBook`` (with
``SqlPostingStore`` numbering the lines) does, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from payledger.domain.clock import ManualClock
from payledger.domain.money import Money
from payledger.domain.posting import (
    DayJournal,
    JournalClosed,
    JournalContents,
    JournalState,
    LedgerOperation,
    Posting,
)
from payledger.engine.queue import Queue
from payledger.flows.ports import JournalBook, PostingStore
from payledger.stores.journals import SqlJournalBook
from payledger.stores.postings import SqlPostingStore
from tests.fakes import FakePostingStore

DAY = "2026-03-24"


@dataclass
class Subject:
    postings: PostingStore
    book: JournalBook
    clock: ManualClock


@pytest.fixture
def subject(backend: Queue | None, clock: ManualClock) -> Subject:
    if backend is None:
        fake = FakePostingStore(clock)
        return Subject(fake, fake, clock)
    return Subject(SqlPostingStore(backend), SqlJournalBook(backend.database, clock), clock)


def owed(
    txn: str, amount: str = "10.00", operation: str = LedgerOperation.PAYMENT, **more
) -> Posting:
    return Posting(
        reference=f"PT-{txn}-{operation[:3].upper()}",
        gateway_txn_id=txn,
        operation=operation,
        company="usmf",
        business_day=DAY,
        amount=Money.of(amount),
        payload={"PaymentReference": f"PT-{txn}"},
        **more,
    )


async def journal(s: Subject, batch: str, *, day: str = DAY, generation: int = 1) -> None:
    kept = DayJournal("usmf", day, "USD", "CustPay", generation=generation)
    await s.postings.add_journal(kept)
    await s.postings.set_batch_number(kept, batch)


async def numbered(s: Subject, batch: str, *postings: Posting, inbox: int = 1) -> list[Posting]:
    """``postings`` recorded, claimed and numbered in ``batch`` (on their way: ``sending``)."""
    await s.postings.record(inbox, list(postings), company="usmf")
    claimed = await s.postings.claim("usmf", 100)
    return await s.postings.number_lines("usmf", batch, claimed)


async def test_closing_takes_the_days_over_and_opened_long_enough(subject: Subject) -> None:
    await journal(subject, "JRN-1", day="2026-03-23")
    await journal(subject, "JRN-2", day=DAY)
    subject.clock.advance(hours=2)
    await journal(subject, "JRN-3", day="2026-03-23", generation=2)  # a late one
    opened_before = subject.clock.now() - timedelta(hours=1)
    assert await subject.book.close_due("usmf", "2026-03-23", opened_before) == ["JRN-1"]
    assert await subject.book.close_due("usmf", "2026-03-23", opened_before) == []
    assert await subject.book.close_due("other", DAY, subject.clock.now()) == []
    assert await subject.book.close_due("usmf", DAY, subject.clock.now()) == ["JRN-2", "JRN-3"]
    first = await subject.book.journal("JRN-1")
    assert first is not None and first.closed and first.closed_at == subject.clock.now()
    assert first.state is JournalState.UNPOSTED


async def test_a_closed_journal_numbers_no_new_line_but_its_lines_keep_their_numbers(
    subject: Subject,
) -> None:
    await journal(subject, "JRN-1")
    [first] = await numbered(subject, "JRN-1", owed("9001"))
    await subject.book.close_due("usmf", DAY, subject.clock.now())
    await subject.postings.record(2, [owed("9002")], company="usmf")
    late = await subject.postings.claim("usmf", 10, retake_sending=False)
    with pytest.raises(JournalClosed):
        await subject.postings.number_lines("usmf", "JRN-1", late)
    found = await subject.postings.find("9002", LedgerOperation.PAYMENT)
    assert found is not None and found.journal_batch_number == ""
    latest = await subject.postings.latest_journal("usmf", DAY, "USD", "CustPay")
    assert latest is not None and latest.closed
    assert await subject.postings.open_journal_numbers("usmf") == {"JRN-1"}  # first keeps JRN-1
    assert first.line_number == 1


async def test_contents_count_written_lines_net_and_what_is_still_owed(subject: Subject) -> None:
    await journal(subject, "JRN-1")
    lines = await numbered(
        subject,
        "JRN-1",
        owed("9001", "40.00"),
        owed("9002", "15.25"),
        owed("9003", "5.00", LedgerOperation.REFUND),
        owed("9004", "7.00"),
    )
    assert await subject.book.contents("JRN-1") == JournalContents(0, Decimal(0), owed=4)
    await subject.postings.settle(
        posted=[p.reference for p in lines[:3]], dead=[(lines[3].reference, "400")]
    )
    assert await subject.book.contents("JRN-1") == JournalContents(3, Decimal("50.25"), owed=0)
    removal = owed("9002", "15.25", LedgerOperation.REMOVAL, target_reference="PT-9002-PAY")
    await subject.postings.record(2, [removal], company="usmf")
    assert await subject.book.contents("JRN-1") == JournalContents(3, Decimal("50.25"), owed=1)
    assert not await subject.book.start_posting("JRN-1")  # closed or not: a removal is owed
    [claimed] = await subject.postings.claim("usmf", 10)
    await subject.postings.settle(posted=[claimed.reference])
    assert await subject.book.contents("JRN-1") == JournalContents(2, Decimal("35.00"), owed=0)
    assert await subject.book.contents("JRN-404") == JournalContents()


async def test_posting_starts_only_when_closed_and_nothing_is_owed(subject: Subject) -> None:
    await journal(subject, "JRN-1")
    [line] = await numbered(subject, "JRN-1", owed("9001"))
    assert not await subject.book.start_posting("JRN-1")  # open
    await subject.book.close_due("usmf", DAY, subject.clock.now())
    assert not await subject.book.start_posting("JRN-1")  # its line is on its way
    await subject.postings.settle(posted=[line.reference])
    assert await subject.book.start_posting("JRN-1")
    started = await subject.book.journal("JRN-1")
    assert started is not None and (started.state, started.post_attempts) == (
        JournalState.POSTING,
        1,
    )
    assert await subject.postings.open_journal_numbers("usmf") == set()
    assert await subject.book.start_posting("JRN-1")  # sent again after a read-back: attempt 2
    await subject.book.posted("JRN-1")
    assert not await subject.book.start_posting("JRN-1")
    posted = await subject.book.journal("JRN-1")
    assert posted is not None
    assert (posted.state, posted.post_attempts, posted.posted_at) == (
        JournalState.POSTED,
        2,
        subject.clock.now(),
    )


async def test_refusals_and_notes_keep_the_reason_and_posting_clears_it(subject: Subject) -> None:
    await journal(subject, "JRN-1")
    await subject.book.close_due("usmf", DAY, subject.clock.now())
    await subject.book.note_error("JRN-1", "not balanced: ...")
    noted = await subject.book.journal("JRN-1")
    assert noted is not None and (noted.state, noted.post_error) == (
        JournalState.UNPOSTED,
        "not balanced: ...",
    )
    await subject.book.refused("JRN-1", "Voucher series exhausted")
    refused = await subject.book.journal("JRN-1")
    assert refused is not None and (refused.state, refused.post_error) == (
        JournalState.REFUSED,
        "Voucher series exhausted",
    )
    await subject.book.posted("JRN-1")
    done = await subject.book.journal("JRN-1")
    assert done is not None and (done.state, done.post_error) == (JournalState.POSTED, "")


async def test_approval_is_recorded_and_closes_the_journal(subject: Subject) -> None:
    await journal(subject, "JRN-1")
    approved = await subject.book.approve("JRN-1", "ops")
    assert approved is not None
    assert (approved.state, approved.approved_by, approved.closed) == (
        JournalState.APPROVED,
        "ops",
        True,
    )
    latest = await subject.postings.latest_journal("usmf", DAY, "USD", "CustPay")
    assert latest is not None and latest.closed
    assert await subject.book.approve("JRN-404", "ops") is None
    await subject.book.posted("JRN-1")
    again = await subject.book.approve("JRN-1", "someone else")
    assert again is not None and (again.state, again.approved_by) == (JournalState.POSTED, "ops")


async def test_unposted_lists_closed_journals_not_posted_oldest_first(subject: Subject) -> None:
    await journal(subject, "JRN-2", day=DAY)
    await journal(subject, "JRN-1", day="2026-03-23")
    await journal(subject, "JRN-3", day="2026-03-25")
    await subject.book.close_due("usmf", DAY, subject.clock.now())
    assert [j.batch_number for j in await subject.book.unposted("usmf")] == ["JRN-1", "JRN-2"]
    await subject.book.posted("JRN-1")
    assert [j.batch_number for j in await subject.book.unposted("usmf")] == ["JRN-2"]
    assert await subject.book.unposted("other") == []


async def test_a_journal_someone_posted_is_closed_and_posted(subject: Subject) -> None:
    await journal(subject, "JRN-1")
    await subject.postings.close_journal("JRN-1")
    found = await subject.book.journal("JRN-1")
    assert found is not None and (found.closed, found.state) == (True, JournalState.POSTED)
    assert await subject.postings.open_journal_numbers("usmf") == set()


async def test_closing_and_numbering_side_by_side_never_post_an_unwritten_line(
    subject: Subject,
) -> None:
    """Whichever comes first, a line numbered into the journal keeps it from posting until
    the line is written; a numbering after the close numbers nothing."""
    for round_ in range(8):
        batch = f"JRN-{round_}"
        await journal(subject, batch, day=f"2026-03-{round_ + 1:02d}")
        await subject.postings.record(100 + round_, [owed(f"8{round_}")], company="usmf")
        claimed = await subject.postings.claim("usmf", 10)

        async def number() -> list[Posting]:
            try:
                return await subject.postings.number_lines("usmf", batch, claimed)
            except JournalClosed:
                return []

        placed, _ = await asyncio.gather(
            number(), subject.book.close_due("usmf", "2026-03-31", subject.clock.now())
        )
        contents = await subject.book.contents(batch)
        assert contents.owed == len(placed)
        assert await subject.book.start_posting(batch) is not placed
        await subject.postings.settle(replan=[p.reference for p in claimed])
        await subject.postings.cancel(claimed[0].reference)
