"""The inbox stores each event once, with its processing job, or refuses it whole."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import inbox, jobs
from payledger.domain.errors import CardDataRejected
from payledger.engine.inbox import Inbox, NewEvent
from payledger.engine.queue import Queue


@pytest.fixture
def box(database, clock) -> Inbox:
    return Inbox(Queue(database, clock=clock))


async def accept(box: Inbox, external_id: str, payload: dict):
    async with box.queue.database.transaction() as conn:
        return await box.accept(
            conn,
            source="paytrace",
            external_id=external_id,
            payload=payload,
            job_kind="payment.process",
            ordering_key="txn-1",
        )


async def rows(box: Inbox, table) -> int:
    async with box.queue.database.transaction() as conn:
        return await conn.scalar(select(func.count()).select_from(table))


async def test_an_event_is_stored_with_the_job_that_processes_it(box):
    receipt = await accept(box, "txn-1:approved", {"transaction_id": "txn-1", "amount": "10.00"})
    assert not receipt.duplicate
    async with box.queue.database.transaction() as conn:
        stored = await box.get(conn, receipt.inbox_id)
        job = (await conn.execute(select(jobs))).one()
    assert stored["payload"]["amount"] == "10.00"
    assert stored["status"] == "received"
    assert job.kind == "payment.process"
    assert job.payload == {"inbox_id": receipt.inbox_id}
    assert job.ordering_key == "txn-1"


async def test_a_redelivered_event_is_reported_as_a_duplicate_not_an_error(box):
    first = await accept(box, "txn-1:approved", {"transaction_id": "txn-1"})
    second = await accept(box, "txn-1:approved", {"transaction_id": "txn-1"})
    assert second.duplicate
    assert second.inbox_id == first.inbox_id
    assert await rows(box, inbox) == 1
    assert await rows(box, jobs) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"card": {"number": "4111 1111 1111 1111"}},
        {"note": "pay with 5454-5454-5454-5454 please"},
        {"cvv": "999"},
        {"lines": [{"memo": "x"}, {"memo": "371449635392376"}]},
    ],
)
async def test_a_payload_with_card_data_is_refused_and_nothing_is_stored(box, payload):
    with pytest.raises(CardDataRejected) as refused:
        await accept(box, "evt-1", payload)
    assert "card" in str(refused.value)
    assert await rows(box, inbox) == 0
    assert await rows(box, jobs) == 0


@pytest.mark.parametrize(
    "payload", ["not json", {"amount": float("nan")}, {"when": object()}, ["a", "list"]]
)
async def test_a_payload_that_is_not_a_json_object_is_refused_whole(box, payload):
    from payledger.domain.errors import DomainError

    with pytest.raises(DomainError, match="evt-1"):
        await accept(box, "evt-1", payload)
    assert await rows(box, inbox) == 0
    assert await rows(box, jobs) == 0


async def test_many_events_are_stored_at_once_each_once_with_its_job(box):
    await accept(box, "txn-0:approved", {"transaction_id": "txn-0"})
    events = [
        NewEvent(f"txn-{n}:approved", {"transaction_id": f"txn-{n}"}, ordering_key=f"txn-{n}")
        for n in (0, 1, 2, 1)
    ]
    async with box.queue.database.transaction() as conn:
        receipts = await box.accept_many(
            conn, source="paytrace", job_kind="payment.process", events=events
        )
    assert [r.duplicate for r in receipts] == [True, False, False, True]
    assert receipts[1].inbox_id == receipts[3].inbox_id
    assert await rows(box, inbox) == 3
    assert await rows(box, jobs) == 3


async def test_one_card_number_refuses_the_whole_batch(box):
    events = [
        NewEvent("txn-1:approved", {"transaction_id": "txn-1"}),
        NewEvent("txn-2:approved", {"note": "card 4111 1111 1111 1111"}),
    ]
    with pytest.raises(CardDataRejected):
        async with box.queue.database.transaction() as conn:
            await box.accept_many(
                conn, source="paytrace", job_kind="payment.process", events=events
            )
    assert await rows(box, inbox) == 0
