"""The ``PostingStore`` port: ``FakePostingStore`` behaves as ``SqlPostingStore`` does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import pytest

from payledger.domain.money import Money
from payledger.domain.posting import DayJournal, LedgerOperation, Posting, PostingState
from payledger.engine.queue import Queue
from payledger.flows.ports import PostingStore
from payledger.stores.postings import SqlPostingStore
from tests.contracts.conftest import pending_jobs
from tests.fakes import FakePostingStore

DAY = DayJournal("usmf", "2026-03-24", "USD", "CustPay")


@dataclass
class Subject:
    store: PostingStore
    flushes_due: Callable[[], Awaitable[int]]


@pytest.fixture
def subject(backend: Queue | None) -> Subject:
    if backend is None:
        fake = FakePostingStore()

        async def fake_flushes() -> int:
            return len(fake.flushes_due)

        return Subject(fake, fake_flushes)
    queue = backend
    return Subject(SqlPostingStore(queue), lambda: pending_jobs(queue))


def owed(txn: str, company: str = "usmf", operation: str = LedgerOperation.PAYMENT) -> Posting:
    return Posting(
        reference=f"PT-{txn}-{operation[:3].upper()}",
        gateway_txn_id=txn,
        operation=operation,
        company=company,
        business_day=DAY.business_day,
        amount=Money.of("25.00"),
        payload={"PaymentReference": f"PT-{txn}"},
    )


async def state(store: PostingStore, txn: str) -> PostingState:
    found = await store.find(txn, LedgerOperation.PAYMENT)
    assert found is not None
    return found.state


async def test_a_posting_is_stored_once_per_transaction_and_operation(subject: Subject) -> None:
    store = subject.store
    assert await store.record(1, [owed("9001"), owed("9002")], company="usmf") == 2
    assert await store.record(2, [owed("9001")], company="usmf") == 0
    renamed = replace(owed("9001"), reference="PT-9001-OTHER")
    assert await store.record(3, [renamed], company="usmf") == 0
    found = await store.find("9001", LedgerOperation.PAYMENT)
    assert found is not None and found.reference == "PT-9001-PAY"
    assert await store.find("9001", LedgerOperation.REFUND) is None
    assert await store.planned_count("usmf") == 2


async def test_new_postings_make_a_flush_due_and_known_ones_do_not(subject: Subject) -> None:
    await subject.store.record(1, [], company="usmf")
    assert await subject.flushes_due() == 0
    await subject.store.record(2, [owed("9001")], company="usmf")
    assert await subject.flushes_due() >= 1


async def test_claims_take_the_oldest_first_and_each_posting_once(subject: Subject) -> None:
    store = subject.store
    await store.record(1, [owed(f"90{n:02d}") for n in range(5)], company="usmf")
    await store.record(2, [owed("7001", company="other")], company="other")
    first = await store.claim("usmf", 3, retake_sending=False)
    second = await store.claim("usmf", 3, retake_sending=False)
    assert [p.gateway_txn_id for p in first] == ["9000", "9001", "9002"]
    assert [p.gateway_txn_id for p in second] == ["9003", "9004"]
    assert await store.claim("usmf", 3, retake_sending=False) == []
    assert all(p.state is PostingState.PLANNED and p.attempts == 0 for p in first)
    assert await state(store, "9000") is PostingState.SENDING
    assert await store.planned_count("usmf") == 0
    assert await store.planned_count("other") == 1


async def test_a_new_flush_retakes_lines_left_sending_as_unknown(subject: Subject) -> None:
    store = subject.store
    await store.record(1, [owed("9001")], company="usmf")
    await store.claim("usmf", 10)
    [retaken] = await store.claim("usmf", 10, retake_sending=True)
    assert (retaken.gateway_txn_id, retaken.state) == ("9001", PostingState.UNKNOWN)
    stored = await store.find("9001", LedgerOperation.PAYMENT)
    assert stored is not None and stored.attempts == 2


async def test_only_a_posting_never_sent_can_be_cancelled(subject: Subject) -> None:
    store = subject.store
    await store.record(1, [owed("9001"), owed("9002")], company="usmf")
    await store.claim("usmf", 1)
    assert await store.cancel("PT-9001-PAY") is False
    assert await store.cancel("PT-9002-PAY") is True
    assert await state(store, "9002") is PostingState.CANCELLED
    assert await store.claim("usmf", 10, retake_sending=False) == []


async def test_outcomes_change_only_postings_on_their_way(subject: Subject) -> None:
    store = subject.store
    await store.record(1, [owed(f"900{n}") for n in range(5)], company="usmf")
    await store.claim("usmf", 4)
    await store.settle(
        posted=["PT-9000-PAY", "PT-9004-PAY"],
        replan=["PT-9001-PAY"],
        unknown=["PT-9002-PAY"],
        dead=[("PT-9003-PAY", "400 refused")],
    )
    assert [await state(store, f"900{n}") for n in range(5)] == [
        PostingState.POSTED,
        PostingState.PLANNED,
        PostingState.UNKNOWN,
        PostingState.DEAD,
        PostingState.PLANNED,  # never claimed: not on its way, so not posted
    ]
    dead = await store.find("9003", LedgerOperation.PAYMENT)
    assert dead is not None and dead.last_error == "400 refused"
    assert await store.planned_count("usmf") == 3


async def test_journals_are_kept_by_day_and_generation(subject: Subject) -> None:
    store = subject.store
    assert await store.latest_journal("usmf", DAY.business_day, "USD", "CustPay") is None
    await store.add_journal(DAY)
    with pytest.raises(Exception):
        await store.add_journal(DAY)
    await store.set_batch_number(DAY, "JRN-1")
    second = DayJournal("usmf", DAY.business_day, "USD", "CustPay", generation=2)
    await store.add_journal(second)
    await store.set_batch_number(second, "JRN-2")
    latest = await store.latest_journal("usmf", DAY.business_day, "USD", "CustPay")
    assert latest is not None and (latest.generation, latest.batch_number) == (2, "JRN-2")
    assert await store.open_journal_numbers("usmf") == {"JRN-1", "JRN-2"}
    await store.close_journal("JRN-1")
    assert await store.open_journal_numbers("usmf") == {"JRN-2"}
    assert await store.open_journal_numbers("other") == set()


async def test_lines_are_numbered_on_from_the_journals_last_number(subject: Subject) -> None:
    store = subject.store
    await store.record(1, [owed(f"900{n}") for n in range(3)], company="usmf")
    await store.add_journal(DAY)
    await store.set_batch_number(DAY, "JRN-1")
    claimed = await store.claim("usmf", 10)
    first = await store.number_lines("usmf", "JRN-1", claimed[:2])
    second = await store.number_lines("usmf", "JRN-1", claimed[2:])
    assert [(p.journal_batch_number, p.line_number) for p in first + second] == [
        ("JRN-1", 1),
        ("JRN-1", 2),
        ("JRN-1", 3),
    ]
    assert [p.payload["LineNumber"] for p in first + second] == [1, 2, 3]
    stored = await store.find("9002", LedgerOperation.PAYMENT)
    assert stored is not None and stored.line_number == 3


async def test_a_line_another_flush_numbered_meanwhile_is_left_out(subject: Subject) -> None:
    store = subject.store
    await store.record(1, [owed("9001")], company="usmf")
    await store.add_journal(DAY)
    await store.set_batch_number(DAY, "JRN-1")
    stale = await store.claim("usmf", 10)
    retaken = await store.claim("usmf", 10, retake_sending=True)  # a successor retook it
    assert [p.line_number for p in await store.number_lines("usmf", "JRN-1", retaken)] == [1]
    assert await store.number_lines("usmf", "JRN-1", stale) == []
    stored = await store.find("9001", LedgerOperation.PAYMENT)
    assert stored is not None and stored.line_number == 1
