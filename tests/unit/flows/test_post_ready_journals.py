"""Closing payledger's journals after their day and posting the ready ones, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payledger.domain import Money
from payledger.domain.clock import ManualClock
from payledger.domain.errors import AmbiguousOutcome, ConfigError, TransientError
from payledger.domain.posting import (
    DayJournal,
    JournalClosed,
    JournalState,
    Posting,
    PostingState,
    PostMode,
)
from payledger.flows.post_journals import place_lines
from payledger.flows.post_ready_journals import (
    Parts,
    PostJournals,
    PostOutcome,
    UnknownJournal,
    approve_and_post,
    post_ready_journals,
)
from tests.fakes import FakeJournalPoster, FakeLedger, FakePostingStore
from tests.fakes_orders import FakeAlerts

DAY = "2026-03-24"
OPENED = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
DAY_OVER = datetime(2026, 3, 25, 7, 0, tzinfo=UTC)
"""Midnight in Los Angeles (PDT) after the 24th."""
CLOSES = DAY_OVER + timedelta(minutes=60)


def posting(n: int, amount: str = "10.00", operation: str = "payment", **changes) -> Posting:
    reference = f"PT-{n}-{operation[:3].upper()}"
    return Posting(
        reference=reference,
        gateway_txn_id=str(n),
        operation=operation,
        company="usmf",
        business_day=DAY,
        amount=Money.of(amount),
        payload={"PaymentReference": reference, "LineNumber": 0},
        **changes,
    )


class World:
    """A company with one journal of the 24th (``JRN-1``), the ERP and the operators."""

    def __init__(self) -> None:
        self.clock = ManualClock(OPENED)
        self.store = FakePostingStore(self.clock)
        self.poster = FakeJournalPoster()
        self.alerts = FakeAlerts()
        self.ledger = FakeLedger()
        self.parts = Parts(self.store, self.poster, self.alerts)

    async def journal(self, *lines: Posting, batch: str = "JRN-1") -> str:
        """``batch`` opened on the 24th with ``lines`` written in it, as the ERP holds it too."""
        day = DayJournal("usmf", DAY, "USD", "CustPay", generation=len(self.store.journals) + 1)
        await self.store.add_journal(day)
        await self.store.set_batch_number(day, batch)
        self.ledger.journals[batch] = self.ledger.journals.get(batch) or _header(day)
        for number, line in enumerate(lines, start=1):
            self.store.add(
                posting_in(line, batch, number, line.state if line.state.written else None)
            )
        total = (await self.store.contents(batch)).total
        self.poster.hold(batch, sum(p.state.written for p in lines), str(total))
        return batch

    async def run(self, mode: PostMode = PostMode.WHEN_BALANCED, at: datetime = CLOSES):
        self.clock._now = at
        cmd = PostJournals("usmf", mode, "America/Los_Angeles", timedelta(minutes=60))
        return await post_ready_journals(cmd, self.parts, clock=self.clock)

    def state(self, batch: str = "JRN-1") -> JournalState:
        return self.store.book_journal(batch).state


def _header(day: DayJournal):
    from tests.fakes import FakeJournal

    return FakeJournal(f"payledger usmf {day.business_day} USD #{day.generation}")


def posting_in(line: Posting, batch: str, number: int, state: PostingState | None) -> Posting:
    from dataclasses import replace

    return replace(
        line,
        journal_batch_number=batch,
        line_number=number,
        state=state or line.state,
        payload={**line.payload, "JournalBatchNumber": batch, "LineNumber": number},
    )


def written(n: int, amount: str = "10.00", operation: str = "payment") -> Posting:
    return posting(n, amount, operation, state=PostingState.POSTED)


@pytest.fixture
def world() -> World:
    return World()


# --- closing -----------------------------------------------------------------------------


async def test_a_days_journal_closes_once_its_day_has_been_over_close_after_minutes(world):
    await world.journal(written(1))
    early = await world.run(PostMode.NEVER, at=CLOSES - timedelta(seconds=1))
    assert early.closed == [] and not world.store.book_journal("JRN-1").closed
    late = await world.run(PostMode.NEVER, at=CLOSES)
    assert late.closed == ["JRN-1"]
    assert world.store.book_journal("JRN-1").closed_at == CLOSES


async def test_a_journal_opened_after_its_day_stays_open_close_after_minutes_from_opening(world):
    world.clock._now = CLOSES + timedelta(hours=2)  # a late line of the 24th opened it
    await world.journal(written(1))
    assert (
        await world.run(PostMode.NEVER, at=CLOSES + timedelta(hours=2, minutes=59))
    ).closed == []
    assert (await world.run(PostMode.NEVER, at=CLOSES + timedelta(hours=3))).closed == ["JRN-1"]


async def test_late_lines_of_a_closed_day_go_to_a_new_journal(world):
    await world.journal(written(1))
    await world.run(PostMode.NEVER)
    late = posting(2, state=PostingState.SENDING)
    world.store.add(late)
    [placed] = await place_lines("usmf", "CustPay", [late], store=world.store, ledger=world.ledger)
    assert placed.journal_batch_number not in ("", "JRN-1")
    assert [(j.generation, j.closed) for j in world.store.journals] == [(1, True), (2, False)]
    assert world.ledger.journals[placed.journal_batch_number].description.endswith("#2")


async def test_a_line_already_numbered_in_a_closed_journal_keeps_its_number(world):
    """Its first sending may have reached the ledger: D365 refuses a resend under the same
    number, a second number would write it twice."""
    await world.journal(written(1), posting(2, state=PostingState.UNKNOWN))
    await world.run(PostMode.NEVER)
    resend = world.store.postings["PT-2-PAY"]
    [placed] = await place_lines(
        "usmf", "CustPay", [resend], store=world.store, ledger=world.ledger
    )
    assert (placed.journal_batch_number, placed.line_number) == ("JRN-1", 2)


async def test_a_journal_closing_between_lookup_and_numbering_gets_no_line(world):
    """The race on PostgreSQL: a flush finds the day's journal open, the closing job closes
    it, then the flush numbers. Numbering refuses, and the line goes to the next journal."""
    await world.journal(written(1))
    late = posting(2, state=PostingState.SENDING)
    world.store.add(late)
    closing = ClosingAfterLookup(world.store, world)
    [placed] = await place_lines("usmf", "CustPay", [late], store=closing, ledger=world.ledger)
    assert world.store.book_journal("JRN-1").closed
    assert placed.journal_batch_number != "JRN-1"
    assert (await world.store.contents("JRN-1")).owed == 0
    with pytest.raises(JournalClosed):
        await world.store.number_lines("usmf", "JRN-1", [posting(3)])


class ClosingAfterLookup:
    """The posting store, with the day's closing run right after a flush looked the day's
    journal up (the first time only)."""

    def __init__(self, store: FakePostingStore, world: World) -> None:
        self._store, self._world, self._closed = store, world, False

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    async def latest_journal(self, *key: str):
        found = await self._store.latest_journal(*key)
        if not self._closed:
            self._closed = True
            await self._store.close_due("usmf", DAY, self._world.clock.now())
        return found


# --- ready or not ------------------------------------------------------------------------


async def test_in_never_mode_journals_close_but_are_never_posted(world):
    await world.journal(written(1), written(2))
    run = await world.run(PostMode.NEVER)
    assert run.closed == ["JRN-1"] and run.outcomes == {}
    assert world.poster.posts == [] and world.state() is JournalState.UNPOSTED


async def test_a_closed_balanced_journal_is_posted_and_confirmed_by_reading_it_back(world):
    await world.journal(written(1, "10.00"), written(2, "5.50"), written(3, "2.00", "refund"))
    run = await world.run()
    assert run.outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == ["JRN-1"]
    journal = world.store.book_journal("JRN-1")
    assert (journal.state, journal.posted_at, journal.post_attempts) == (
        JournalState.POSTED,
        CLOSES,
        1,
    )
    assert world.alerts.cleared == ["journal:JRN-1", "journal-unposted:JRN-1"]


async def test_an_open_journal_is_not_posted(world):
    await world.journal(written(1))
    run = await world.run(at=CLOSES - timedelta(minutes=1))
    assert run.outcomes == {} and world.poster.posts == []


async def test_a_journal_with_a_line_still_on_its_way_waits_for_it(world):
    await world.journal(written(1), posting(2, state=PostingState.SENDING))
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.WAITING}
    assert world.poster.posts == [] and world.state() is JournalState.UNPOSTED
    await world.store.settle(posted=["PT-2-PAY"])
    world.poster.hold("JRN-1", 2, "20.00")
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}


async def test_a_journal_whose_line_is_being_removed_waits_for_the_removal(world):
    await world.journal(written(1), written(2))
    world.store.add(posting(2, operation="removal", target_reference="PT-2-PAY"))
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.WAITING}
    world.store.change("PT-2-REM", state=PostingState.POSTED)
    world.poster.hold("JRN-1", 1, "10.00")  # the line is gone from the ERP too
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}


async def test_an_unbalanced_journal_is_not_posted_and_says_what_differs(world):
    await world.journal(written(1), written(2))
    world.poster.hold("JRN-1", 3, "35.00")  # someone added a line in F&O
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.UNBALANCED}
    assert world.poster.posts == []
    journal = world.store.book_journal("JRN-1")
    assert journal.state is JournalState.UNPOSTED
    assert journal.post_error == (
        "not balanced: payledger wrote 2 line(s) totalling 20.00 USD, "
        "the ledger holds 3 line(s) totalling 35.00 USD"
    )
    [(key, title, _text, _, facts)] = world.alerts.sent
    assert key == "journal:JRN-1" and "JRN-1" in title and "does not balance" in title
    assert facts["reason"] in journal.post_error


async def test_in_after_review_mode_only_an_approved_journal_is_posted(world):
    await world.journal(written(1))
    assert (await world.run(PostMode.AFTER_REVIEW)).outcomes == {}
    journal, outcome = await approve_and_post("JRN-1", "ops", PostMode.AFTER_REVIEW, world.parts)
    assert outcome is PostOutcome.POSTED
    assert (journal.state, journal.approved_by) == (JournalState.POSTED, "ops")


async def test_approving_an_open_journal_closes_it_to_new_lines(world):
    await world.journal(written(1))
    world.clock._now = OPENED + timedelta(hours=1)
    journal, outcome = await approve_and_post("JRN-1", "ops", PostMode.AFTER_REVIEW, world.parts)
    assert outcome is PostOutcome.POSTED and journal.closed
    late = posting(2, state=PostingState.SENDING)
    world.store.add(late)
    [placed] = await place_lines("usmf", "CustPay", [late], store=world.store, ledger=world.ledger)
    assert placed.journal_batch_number != "JRN-1"


async def test_an_approval_while_lines_are_on_their_way_posts_once_they_are_written(world):
    await world.journal(written(1), posting(2, state=PostingState.UNKNOWN))
    journal, outcome = await approve_and_post("JRN-1", "ops", PostMode.AFTER_REVIEW, world.parts)
    assert (outcome, journal.state) == (PostOutcome.WAITING, JournalState.APPROVED)
    await world.store.settle(posted=["PT-2-PAY"])
    world.poster.hold("JRN-1", 2, "20.00")
    assert (await world.run(PostMode.AFTER_REVIEW)).outcomes == {"JRN-1": PostOutcome.POSTED}


async def test_post_now_is_refused_in_never_mode_and_for_an_unknown_journal(world):
    await world.journal(written(1))
    with pytest.raises(ConfigError, match='post = "never"'):
        await approve_and_post("JRN-1", "ops", PostMode.NEVER, world.parts)
    with pytest.raises(UnknownJournal, match="'JRN-404'"):
        await approve_and_post("JRN-404", "ops", PostMode.WHEN_BALANCED, world.parts)
    assert world.store.book_journal("JRN-1").approved_by == ""


# --- exactly once, whatever the ERP answers --------------------------------------------------


async def test_a_refused_post_leaves_the_journal_alerts_and_succeeds_once_the_cause_is_fixed(
    world,
):
    await world.journal(written(1))
    world.poster.refuse["JRN-1"] = "Voucher series CustPay is exhausted"
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.REFUSED}
    journal = world.store.book_journal("JRN-1")
    assert (journal.state, journal.post_error) == (
        JournalState.REFUSED,
        "Voucher series CustPay is exhausted",
    )
    assert not world.poster.journals["JRN-1"].posted
    [(key, _title, text, _, _)] = world.alerts.sent
    assert key == "journal:JRN-1" and "Voucher series CustPay is exhausted" in text
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.REFUSED}  # tried again
    del world.poster.refuse["JRN-1"]
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == ["JRN-1"] * 3
    assert world.store.book_journal("JRN-1").post_error == ""


async def test_a_missing_posting_service_refuses_with_a_clear_error(world):
    await world.journal(written(1))
    world.poster.service_missing = True
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.REFUSED}
    error = world.store.book_journal("JRN-1").post_error
    assert error.startswith("the journal-posting service is not usable: 404")
    assert world.alerts.keys() == ["journal:JRN-1"]


async def test_a_post_whose_answer_was_lost_but_posted_is_read_back_and_never_sent_again(world):
    await world.journal(written(1))
    world.poster.post_then_lose_answer = 1
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.UNCONFIRMED}
    assert world.state() is JournalState.POSTING
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == ["JRN-1"]
    assert world.alerts.cleared == ["journal:JRN-1", "journal-unposted:JRN-1"]


async def test_a_journal_a_crash_left_posting_is_read_back_first(world):
    await world.journal(written(1))
    await world.store.close_due("usmf", DAY, CLOSES)
    assert await world.store.start_posting("JRN-1")
    world.poster.journals["JRN-1"].posted = True  # the request before the crash got through
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == []


async def test_an_accepted_post_that_cannot_be_read_back_is_confirmed_on_the_next_run(world):
    await world.journal(written(1))
    world.poster.reads_fail = {2: TransientError("D365 is down", system="fake")}
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.UNCONFIRMED}
    assert world.state() is JournalState.POSTING
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == ["JRN-1"]
    assert (await world.run()).outcomes == {}  # posted: nothing more to do


async def test_a_lost_answer_with_nothing_posted_is_sent_again_on_the_next_run(world):
    await world.journal(written(1))
    world.poster.fail_next = [AmbiguousOutcome("timed out", system="fake")]
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.UNCONFIRMED}
    assert world.state() is JournalState.POSTING
    assert "outcome unknown" in world.store.book_journal("JRN-1").post_error
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == ["JRN-1", "JRN-1"]
    assert world.store.book_journal("JRN-1").post_attempts == 2


async def test_a_transient_error_leaves_the_journal_to_be_read_back_and_retried(world):
    await world.journal(written(1))
    world.poster.fail_next = [TransientError("503 Service Unavailable", system="fake")]
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.UNCONFIRMED}
    assert world.alerts.sent == []
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}


async def test_a_journal_someone_posted_in_the_erp_is_marked_posted_and_not_sent(world):
    await world.journal(written(1))
    world.poster.journals["JRN-1"].posted = True
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.POSTED}
    assert world.poster.posts == [] and world.state() is JournalState.POSTED


async def test_a_journal_missing_from_the_erp_is_refused_with_an_alert(world):
    await world.journal(written(1))
    del world.poster.journals["JRN-1"]
    assert (await world.run()).outcomes == {"JRN-1": PostOutcome.REFUSED}
    assert world.store.book_journal("JRN-1").post_error == "journal JRN-1 does not exist in D365"
    assert world.poster.posts == []


async def test_no_line_is_numbered_into_a_journal_being_posted(world):
    await world.journal(written(1))
    await world.store.close_due("usmf", DAY, CLOSES)
    world.store.book_journal("JRN-1").closed = False  # even were it reopened by mistake
    assert await world.store.start_posting("JRN-1") is False  # not closed: never posted
    world.store.book_journal("JRN-1").closed = True
    assert await world.store.start_posting("JRN-1")
    with pytest.raises(JournalClosed):
        await world.store.number_lines("usmf", "JRN-1", [posting(2)])
