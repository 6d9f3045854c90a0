"""Flushing owed postings: few requests, each line written once, whatever the ledger does."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from payledger.domain import Money
from payledger.domain.errors import AmbiguousOutcome, RateLimited, RejectedError, TransientError
from payledger.domain.posting import DayJournal, Posting, PostingState
from payledger.flows.post_journals import FlushJournals, flush_journals, place_lines
from tests.fakes import FakeLedger, FakePostingStore

DAY = "2026-03-24"
FLUSH = FlushJournals(company="usmf", journal_name="CustPay", max_lines=10, parallel_requests=4)


def line(n: int, *, day: str = DAY, currency: str = "USD", operation: str = "payment") -> Posting:
    reference = f"PT-{n}-{operation[:3].upper()}"
    return Posting(
        reference=reference,
        gateway_txn_id=str(n),
        operation=operation,
        company="usmf",
        business_day=day,
        amount=Money.of("10.00", currency),
        payload={"dataAreaId": "usmf", "PaymentReference": reference, "LineNumber": 0},
        customer_account="US-001",
    )


def removal_of(original: Posting) -> Posting:
    return Posting(
        reference=f"PT-{original.gateway_txn_id}-REM",
        gateway_txn_id=original.gateway_txn_id,
        operation="removal",
        company="usmf",
        business_day=original.business_day,
        amount=original.amount,
        payload={
            "dataAreaId": "usmf",
            "JournalBatchNumber": original.journal_batch_number,
            "LineNumber": original.line_number,
        },
        target_reference=original.reference,
    )


def order_update(n: int, status: str = "paid") -> Posting:
    return Posting(
        reference=f"OR-{n}-{status[:4].upper()}",
        gateway_txn_id=str(n),
        operation=f"order:{status}",
        company="usmf",
        business_day=DAY,
        amount=Money.of("10.00"),
        payload={"dataAreaId": "usmf", "SalesOrderNumber": f"SO-{n}", "PaymentStatus": "Paid"},
    )


def owed(store: FakePostingStore, *numbers: int, **options: Any) -> list[Posting]:
    postings = [line(n, **options) for n in numbers]
    store.add(*postings)
    return postings


def states(store: FakePostingStore) -> Counter[PostingState]:
    return Counter(posting.state for posting in store.postings.values())


def written_once(ledger: FakeLedger, store: FakePostingStore) -> bool:
    """Every posted line is in the ledger exactly once, and nothing else is."""
    in_ledger = Counter(row["PaymentReference"] for row in ledger.lines())
    posted = {r for r, p in store.postings.items() if p.state is PostingState.POSTED and p.is_line}
    return set(in_ledger) == posted and all(count == 1 for count in in_ledger.values())


@pytest.fixture
def store() -> FakePostingStore:
    return FakePostingStore()


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


async def flush(store: FakePostingStore, ledger: FakeLedger, cmd: FlushJournals = FLUSH) -> Any:
    return await flush_journals(cmd, store=store, ledger=ledger)


# --- batching ----------------------------------------------------------------------------


async def test_owed_lines_are_written_in_changesets_of_at_most_max_lines(store, ledger):
    owed(store, *range(1, 26))
    result = await flush(store, ledger)
    assert [len(lines) for lines, _ in ledger.requests] == [10, 10, 5]
    assert (result.posted, result.requests, result.dead) == (25, 3, 0)
    assert states(store) == {PostingState.POSTED: 25}
    assert written_once(ledger, store)


async def test_requests_go_out_in_parallel_up_to_the_configured_limit(store, ledger):
    owed(store, *range(1, 51))
    cmd = FlushJournals(company="usmf", journal_name="CustPay", max_lines=5, parallel_requests=3)
    result = await flush(store, ledger, cmd)
    assert ledger.most_in_flight == 3
    assert result.requests == 3  # one flush takes max_lines x parallel_requests lines
    assert await store.planned_count("usmf") == 35


async def test_a_flush_with_nothing_owed_sends_nothing(store, ledger):
    result = await flush(store, ledger)
    assert (result.posted, result.requests) == (0, 0)
    assert ledger.requests == [] and ledger.journals == {}


async def test_each_day_gets_one_journal_and_its_lines_are_numbered_before_they_are_sent(
    store, ledger
):
    owed(store, 1, 2, 3)
    owed(store, 4, 5, day="2026-03-25")
    await flush(store, ledger)
    assert {j.description: sorted(j.lines) for j in ledger.journals.values()} == {
        "payledger usmf 2026-03-24 USD #1": [1, 2, 3],
        "payledger usmf 2026-03-25 USD #1": [1, 2],
    }
    first, second = store.journals
    for n, journal, number in [(1, first, 1), (3, first, 3), (5, second, 2)]:
        posting = store.postings[f"PT-{n}-PAY"]
        assert (posting.journal_batch_number, posting.line_number) == (
            journal.batch_number,
            number,
        )
    assert all(len({_journal(ledger, r) for r in lines}) == 1 for lines, _ in ledger.requests)


async def test_each_currency_of_a_day_gets_its_own_journal(store, ledger):
    owed(store, 1)
    owed(store, 2, currency="EUR")
    await flush(store, ledger)
    assert sorted(j.description for j in ledger.journals.values()) == [
        "payledger usmf 2026-03-24 EUR #1",
        "payledger usmf 2026-03-24 USD #1",
    ]


async def test_later_flushes_of_the_day_reuse_its_journal_and_continue_its_numbering(store, ledger):
    owed(store, 1, 2)
    await flush(store, ledger)
    owed(store, 3)
    await flush(store, ledger)
    [journal] = ledger.journals.values()
    assert sorted(journal.lines) == [1, 2, 3]


async def test_removals_and_order_updates_ride_along_with_the_lines(store, ledger):
    [first] = owed(store, 1)
    await flush(store, ledger)
    store.add(removal_of(store.postings[first.reference]), order_update(2))
    owed(store, 3)
    result = await flush(store, ledger)
    assert ledger.requests[-1] == (["PT-3-PAY"], ["PT-1-REM", "OR-2-PAID"])
    assert result.requests == 1
    assert ledger.lines("PT-1-PAY") == []
    assert ledger.order_updates[0]["SalesOrderNumber"] == "SO-2"
    assert store.state_of("PT-1-REM") is store.state_of("OR-2-PAID") is PostingState.POSTED


async def test_a_line_numbered_in_a_posted_journal_is_numbered_again_in_the_next_one(store, ledger):
    [first] = owed(store, 1)
    await flush(store, ledger)
    [old] = store.journals
    ledger.post_journal(old.batch_number)
    await store.close_journal(old.batch_number)
    store.change(first.reference, state=PostingState.PLANNED)  # owed again, still numbered
    await flush(store, ledger)
    new = store.postings[first.reference]
    assert new.journal_batch_number != old.batch_number
    assert [(j.generation, j.closed) for j in store.journals] == [(1, True), (2, False)]
    assert ledger.lines(first.reference)[-1]["JournalBatchNumber"] == new.journal_batch_number
    assert ledger.journals[new.journal_batch_number].description.endswith("#2")


async def test_a_journal_kept_but_never_opened_is_opened_again_under_the_same_description(
    store, ledger
):
    """The flush died after keeping the journal and before the ledger's answer came back: the
    next asks the ledger again with the same description and gets the header it made then."""
    made = await ledger.open_payment_journal("payledger usmf 2026-03-24 USD #1")
    await store.add_journal(DayJournal("usmf", DAY, "USD", "CustPay", generation=1))
    owed(store, 1, 2)
    result = await flush(store, ledger)
    assert result.posted == 2
    assert list(ledger.journals) == [made]
    assert [(j.generation, j.batch_number) for j in store.journals] == [(1, made)]
    assert sorted(ledger.journals[made].lines) == [1, 2]


async def test_an_open_journal_is_reused_without_asking_the_ledger_again(store, ledger):
    owed(store, 1)
    await flush(store, ledger)
    ledger.journals.clear()  # forgotten: a journal asked for again would show up here
    owed(store, 2)
    placed = await place_lines(
        "usmf", "CustPay", await store.claim("usmf", 10), store=store, ledger=ledger
    )
    assert ledger.journals == {}
    assert [(p.journal_batch_number, p.line_number) for p in placed] == [("JRN-00001", 2)]


# --- refusals ----------------------------------------------------------------------------


async def test_a_refused_line_in_a_changeset_goes_dead_and_the_rest_post(store, ledger):
    owed(store, *range(1, 9))
    ledger.refuse["PT-4-PAY"] = "400 Customer NO-SUCH does not exist."
    result = await flush(store, ledger)
    assert (result.posted, result.dead) == (7, 1)
    assert result.errors == ["400 Customer NO-SUCH does not exist."]
    dead = store.postings["PT-4-PAY"]
    assert (dead.state, dead.last_error) == (
        PostingState.DEAD,
        "400 Customer NO-SUCH does not exist.",
    )
    assert written_once(ledger, store)
    assert result.requests == 7  # halves: 8, then 4+4, 2+2, 1+1


async def test_two_refused_lines_each_go_dead_alone(store, ledger):
    owed(store, *range(1, 9))
    ledger.refuse.update({"PT-2-PAY": "400 bad account", "PT-7-PAY": "400 bad currency"})
    result = await flush(store, ledger)
    assert (result.posted, result.dead) == (6, 2)
    assert store.postings["PT-7-PAY"].last_error == "400 bad currency"
    assert written_once(ledger, store)


async def test_a_refused_order_update_goes_dead_without_holding_back_the_lines(store, ledger):
    owed(store, 1)
    store.add(order_update(2))
    ledger.refuse["OR-2-PAID"] = "404 sales order SO-2 not found"
    result = await flush(store, ledger)
    assert (result.posted, result.dead) == (1, 1)
    assert store.postings["OR-2-PAID"].last_error == "404 sales order SO-2 not found"
    assert store.state_of("PT-1-PAY") is PostingState.POSTED


async def test_lines_refused_because_their_journal_got_posted_move_to_a_new_journal(store, ledger):
    owed(store, 1)
    await flush(store, ledger)
    [old] = ledger.journals
    ledger.post_journal(old)  # an accountant posts the day's journal
    owed(store, 2, 3)
    result = await flush(store, ledger)
    assert (result.owed_again, result.dead) == (2, 0)
    assert states(store)[PostingState.PLANNED] == 2
    result = await flush(store, ledger)
    assert result.posted == 2
    new = _journal(ledger, "PT-2-PAY")
    assert new != old and ledger.journals[new].description.endswith("#2")
    assert sorted(ledger.journals[new].lines) == [1, 2]
    assert written_once(ledger, store)


# --- unknown outcomes --------------------------------------------------------------------


async def test_an_ambiguous_write_is_resolved_by_reading_before_any_retry(store, ledger):
    owed(store, 1, 2, 3)
    ledger.commit_then_raise = 1
    result = await flush(store, ledger)
    assert result.posted == 3
    assert states(store) == {PostingState.POSTED: 3}
    assert [("reference", f"PT-{n}-PAY") for n in (1, 2, 3)] == ledger.asked[-3:]
    assert len(ledger.requests) == 1  # found by their PaymentReference: not sent again
    assert written_once(ledger, store)


async def test_a_write_lost_before_it_landed_is_owed_again_and_sent_once(store, ledger):
    owed(store, 1, 2)
    ledger.fail_next.append(AmbiguousOutcome("timed out", system="fake"))
    result = await flush(store, ledger)
    assert (result.posted, result.owed_again) == (0, 2)
    assert states(store) == {PostingState.PLANNED: 2}
    await flush(store, ledger)
    assert states(store) == {PostingState.POSTED: 2}
    assert written_once(ledger, store)


async def test_a_line_the_ledger_committed_after_payledger_looked_is_posted_not_dead(store, ledger):
    """The answer was lost, the lookup found nothing, and then the ledger committed after all:
    the resend is refused as a duplicate of its own line, which the flush recognises."""
    owed(store, 1, 2)
    ledger.fail_next.append(AmbiguousOutcome("timed out", system="fake"))
    await flush(store, ledger)
    for posting in store.postings.values():  # the late commit
        payload = posting.payload
        ledger.journals[payload["JournalBatchNumber"]].lines[payload["LineNumber"]] = payload
    result = await flush(store, ledger)
    assert (result.posted, result.dead) == (2, 0)
    assert states(store) == {PostingState.POSTED: 2}
    assert written_once(ledger, store)


async def test_when_the_lookup_fails_too_the_lines_stay_unknown_and_are_read_before_resending(
    store, ledger
):
    owed(store, 1, 2)
    ledger.commit_then_raise = 1
    ledger.lookups_fail.append(TransientError("D365 down", system="fake"))
    await flush(store, ledger)
    assert states(store) == {PostingState.UNKNOWN: 2}
    result = await flush(store, ledger)
    assert result.posted == 2
    assert len(ledger.requests) == 1
    assert written_once(ledger, store)


async def test_unknown_lines_not_found_are_sent_again_with_their_journal_and_line_number(
    store, ledger
):
    owed(store, 1, 2)
    ledger.fail_next.append(AmbiguousOutcome("timed out", system="fake"))
    ledger.lookups_fail.append(TransientError("D365 down", system="fake"))
    await flush(store, ledger)
    before = {r: (p.journal_batch_number, p.line_number) for r, p in store.postings.items()}
    await flush(store, ledger)
    assert {r: (p.journal_batch_number, p.line_number) for r, p in store.postings.items()} == before
    assert written_once(ledger, store)


async def test_an_ambiguous_removal_or_order_update_is_simply_sent_again(store, ledger):
    [first] = owed(store, 1)
    await flush(store, ledger)
    store.add(removal_of(store.postings[first.reference]), order_update(2))
    ledger.commit_then_raise = 1
    result = await flush(store, ledger)
    assert result.owed_again == 2
    await flush(store, ledger)
    assert store.state_of("PT-1-REM") is store.state_of("OR-2-PAID") is PostingState.POSTED
    assert len(ledger.order_updates) == 2  # a repeated order update sets the same values


async def test_after_an_ambiguous_write_and_a_failed_lookup_order_updates_are_owed_again(
    store, ledger
):
    owed(store, 1)
    store.add(order_update(2))
    ledger.commit_then_raise = 1
    ledger.lookups_fail.append(TransientError("D365 down", system="fake"))
    await flush(store, ledger)
    assert (store.state_of("PT-1-PAY"), store.state_of("OR-2-PAID")) == (
        PostingState.UNKNOWN,
        PostingState.PLANNED,
    )
    await flush(store, ledger)
    assert states(store) == {PostingState.POSTED: 2}
    assert written_once(ledger, store)


async def test_lines_a_crashed_flush_left_on_their_way_are_looked_up_not_resent(store, ledger):
    lines = owed(store, 1, 2)
    claimed = await store.claim("usmf", 10)
    placed = await place_lines("usmf", "CustPay", claimed, store=store, ledger=ledger)
    await ledger.write(placed, [])  # ...and the worker died before recording the outcome
    assert states(store) == {PostingState.SENDING: 2}
    result = await flush(store, ledger)
    assert result.posted == len(lines)
    assert len(ledger.requests) == 1
    assert written_once(ledger, store)


# --- throttling and outages --------------------------------------------------------------


async def test_a_throttled_flush_owes_everything_again_and_asks_to_be_retried_later(store, ledger):
    owed(store, 1, 2)
    ledger.fail_next.append(RateLimited("429", retry_after=7.0, system="fake"))
    with pytest.raises(RateLimited) as throttled:
        await flush(store, ledger)
    assert throttled.value.retry_after == 7.0
    assert states(store) == {PostingState.PLANNED: 2}
    assert ledger.lines() == []


async def test_a_ledger_outage_owes_everything_again_and_retries_after_a_second(store, ledger):
    owed(store, 1)
    store.add(order_update(2))
    ledger.fail_next.append(TransientError("503", system="fake"))
    with pytest.raises(RateLimited) as later:
        await flush(store, ledger)
    assert later.value.retry_after == 1.0
    assert states(store) == {PostingState.PLANNED: 2}


async def test_a_failed_lookup_of_unknown_lines_leaves_every_claimed_posting_owed(store, ledger):
    """Not stuck 'sending' until a lease runs out: the next flush takes them straight away."""
    owed(store, 1)
    ledger.fail_next.append(AmbiguousOutcome("timed out", system="fake"))
    ledger.lookups_fail.append(TransientError("D365 down", system="fake"))
    await flush(store, ledger)  # PT-1 is unknown now
    owed(store, 2)
    ledger.lookups_fail.append(TransientError("D365 still down", system="fake"))
    with pytest.raises(TransientError):
        await flush(store, ledger)
    assert await store.planned_count("usmf") == 2
    await flush(store, ledger)
    assert states(store) == {PostingState.POSTED: 2}
    assert written_once(ledger, store)


async def test_when_one_request_fails_the_others_are_stopped_so_a_retry_cannot_write_twice(
    store, ledger
):
    """A request still in flight after its flush gave up would race the retry, which resends
    the same lines: one copy lands and the other is refused and reported dead."""
    owed(store, *range(1, 21))
    ledger.fail_next.append(RejectedError("401 token expired", system="fake"))
    ledger.hold[2] = release = asyncio.Event()
    with pytest.raises(RejectedError):
        await flush(store, ledger)
    await flush(store, ledger)  # the retry
    release.set()
    await _background_work_done()
    assert states(store) == {PostingState.POSTED: 20}
    assert written_once(ledger, store)


# --- pipelining: a flush keeps taking lines while its requests are out ----------------------

PIPELINE = FlushJournals(
    company="usmf",
    journal_name="CustPay",
    max_lines=10,
    parallel_requests=4,
    keep_taking_s=30,
    round_s=0.01,
)


async def _until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.005)


async def test_lines_owed_meanwhile_are_sent_without_waiting_for_the_earlier_request(store, ledger):
    owed(store, 1, 2, 3)
    ledger.hold[1] = release = asyncio.Event()
    flushing = asyncio.create_task(flush(store, ledger, PIPELINE))
    await _until(lambda: len(ledger.requests) == 1)
    owed(store, 4, 5)
    await _until(lambda: len(ledger.requests) == 2)
    assert ledger.requests[1] == (["PT-4-PAY", "PT-5-PAY"], [])  # the held lines not again
    assert not flushing.done()
    release.set()
    result = await flushing
    assert result.posted == 5
    assert written_once(ledger, store)


async def test_lines_gather_for_a_whole_round_even_when_the_ledger_answers_at_once(store, ledger):
    owed(store, 1, 2)
    gathering = FlushJournals(company="usmf", journal_name="CustPay", keep_taking_s=30, round_s=0.1)
    flushing = asyncio.create_task(flush(store, ledger, gathering))
    await _until(lambda: len(ledger.requests) == 1)
    owed(store, 3)
    await asyncio.sleep(0.02)
    owed(store, 4)
    await flushing
    assert ledger.requests[1:] == [(["PT-3-PAY", "PT-4-PAY"], [])]  # one request, not two


async def test_a_pipelined_flush_ends_as_soon_as_nothing_is_owed_or_on_its_way(store, ledger):
    owed(store, 1, 2)
    async with asyncio.timeout(1):  # long before keep_taking_s
        result = await flush(store, ledger, PIPELINE)
    assert result.posted == 2


async def test_a_flush_that_finds_nothing_owed_returns_without_waiting_a_round(store, ledger):
    slow_rounds = FlushJournals(
        company="usmf", journal_name="CustPay", keep_taking_s=30, round_s=10
    )
    async with asyncio.timeout(1):
        result = await flush(store, ledger, slow_rounds)
    assert (result.rounds, result.requests) == (1, 0)


async def test_told_to_stop_a_pipeline_takes_nothing_more_and_finishes_what_is_on_its_way(
    store, ledger
):
    owed(store, 1, 2, 3)
    ledger.hold[1] = release = asyncio.Event()
    stopping = False
    rounds: list[int] = []
    flushing = asyncio.create_task(
        flush_journals(
            PIPELINE,
            store=store,
            ledger=ledger,
            stop_taking=lambda: stopping,
            on_round=lambda result: rounds.append(result.posted),
        )
    )
    await _until(lambda: len(ledger.requests) == 1)
    stopping = True
    owed(store, 4, 5)
    release.set()
    result = await flushing
    assert result.posted == 3
    assert states(store) == {PostingState.POSTED: 3, PostingState.PLANNED: 2}  # the next flush's
    assert rounds and rounds[-1] <= 3  # progress was reported round by round


async def test_a_throttled_pipeline_stops_taking_lines_and_asks_to_be_retried(store, ledger):
    owed(store, 1, 2)
    ledger.fail_next.append(RateLimited("429", retry_after=3.0, system="fake"))
    with pytest.raises(RateLimited):
        await flush(store, ledger, PIPELINE)
    assert len(ledger.requests) == 1  # the owed-again lines wait for the retry
    assert states(store) == {PostingState.PLANNED: 2}


async def test_when_a_pipelined_request_fails_every_line_on_its_way_is_left_unknown(store, ledger):
    owed(store, 1, 2, 3)
    ledger.hold[1] = asyncio.Event()  # never answered: still on its way when the flush gives up
    flushing = asyncio.create_task(flush(store, ledger, PIPELINE))
    await _until(lambda: len(ledger.requests) == 1)
    ledger.fail_next.append(RejectedError("401 token expired", system="fake"))
    owed(store, 4, 5)
    with pytest.raises(RejectedError):
        await flushing
    assert states(store) == {PostingState.UNKNOWN: 5}
    await flush(store, ledger)  # the retry looks them up, then sends them
    assert states(store) == {PostingState.POSTED: 5}
    assert written_once(ledger, store)


async def _background_work_done() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others)


def _journal(ledger: FakeLedger, reference: str) -> str:
    [journal] = {
        number
        for number, journal in ledger.journals.items()
        for row in journal.lines.values()
        if row["PaymentReference"] == reference
    }
    return journal
