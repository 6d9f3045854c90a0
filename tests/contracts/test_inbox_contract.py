"""The inbox ports: ``FakePaymentEventStore``, ``FakeHintedPayments`` and ``FakeDeliveryLog``
behave as the SQL stores on the inbox do (one event per source and key, a watermark that only
moves on, no card data stored, one delivery per id)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payledger.domain.clock import ManualClock
from payledger.domain.errors import CardDataRejected
from payledger.domain.events import DeliveryRecorded, PaymentHinted, PaymentObserved, Recorded
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.flows.ports import DeliveryLog, HintedPayments, PaymentEventStore
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.stores.deliveries import SqlDeliveryLog
from payledger.stores.payment_events import SqlHintedPayments, SqlPaymentEventStore
from tests.fakes import FakePaymentEventStore
from tests.fakes_hints import FakeDeliveryLog, FakeHintedPayments, observed


@pytest.fixture
def events(backend: Queue | None) -> PaymentEventStore:
    return FakePaymentEventStore() if backend is None else SqlPaymentEventStore(Inbox(backend))


@pytest.fixture
def hinted(backend: Queue | None) -> HintedPayments:
    return FakeHintedPayments() if backend is None else SqlHintedPayments(Inbox(backend))


async def test_an_event_is_stored_once_per_source_and_key(
    events: PaymentEventStore, clock: ManualClock
) -> None:
    mark = ("poll", clock.now())
    first = await events.record("fakepay", [observed("1"), observed("2")], watermark=mark)
    again = await events.record("fakepay", [observed("2"), observed("3")], watermark=mark)
    elsewhere = await events.record("other", [observed("1")], watermark=mark)
    assert (first, again, elsewhere) == (
        Recorded(new=2, duplicates=0),
        Recorded(new=1, duplicates=1),
        Recorded(new=1, duplicates=0),
    )


async def test_the_watermark_moves_on_and_never_back(
    events: PaymentEventStore, clock: ManualClock
) -> None:
    assert await events.watermark("poll") is None
    later = clock.now() + timedelta(minutes=5)
    await events.record("fakepay", [], watermark=("poll", later))
    assert await events.watermark("poll") == later
    await events.record("fakepay", [observed("1")], watermark=("poll", clock.now()))
    assert await events.watermark("poll") == later
    assert await events.watermark("other") is None


async def test_card_data_is_never_stored(events: PaymentEventStore, clock: ManualClock) -> None:
    leaky = observed("1", message=f"card {TEST_CARD_NUMBERS[0]}")
    with pytest.raises(CardDataRejected):
        await events.record("fakepay", [observed("2"), leaky], watermark=("poll", clock.now()))
    assert await events.watermark("poll") is None
    recorded = await events.record("fakepay", [observed("2")], watermark=("poll", clock.now()))
    assert recorded.new == 1


async def test_a_fetched_payment_is_new_once(hinted: HintedPayments) -> None:
    assert await hinted.fetched(1, "fakepay", observed("1")) is True
    assert await hinted.fetched(2, "fakepay", observed("1")) is False
    assert await hinted.fetched(3, "other", observed("1")) is True
    settled = PaymentObserved("fakepay:1:sale:settled", observed("1").payment)
    assert await hinted.fetched(4, "fakepay", settled) is True


async def test_a_fetched_payment_with_card_data_is_refused(hinted: HintedPayments) -> None:
    leaky = observed("1", message=f"card {TEST_CARD_NUMBERS[0]}")
    with pytest.raises(CardDataRejected):
        await hinted.fetched(1, "fakepay", leaky)
    assert await hinted.fetched(2, "fakepay", observed("1")) is True


@pytest.fixture
def deliveries(backend: Queue | None) -> DeliveryLog:
    if backend is None:
        return FakeDeliveryLog()
    inbox = Inbox(backend)
    return SqlDeliveryLog(
        inbox, scope="fakepay", keep=timedelta(days=7), source="fakepay-hint", job_kind="hint"
    )


async def test_a_delivery_is_stored_once_and_remembered(deliveries: DeliveryLog) -> None:
    hint = PaymentHinted("msg_1", 1_774_371_600, "125391201", "transaction.created")
    assert await deliveries.record(hint, "fp-1") == DeliveryRecorded(event_id=hint.event_id)
    assert await deliveries.known_fingerprint("msg_1") == "fp-1"
    copy = PaymentHinted("msg_1", 1_774_371_660, "999", "transaction.voided")
    assert await deliveries.record(copy, "fp-2") == DeliveryRecorded(earlier_fingerprint="fp-1")
    assert await deliveries.known_fingerprint("msg_1") == "fp-1"
    assert await deliveries.known_fingerprint("msg_2") is None
