"""Polling: windows that overlap, a watermark that moves only with stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.clock import ManualClock
from payledger.domain.events import PaymentObserved
from payledger.flows.poll_payments import PollPayments, poll_payments
from tests.fakes import FakePaymentEventStore, FakePaymentSource

NOW = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
CMD = PollPayments(overlap=timedelta(minutes=30), first_lookback=timedelta(days=1))


def observed(txn: str, status: PaymentStatus = PaymentStatus.APPROVED) -> PaymentObserved:
    payment = Payment(txn, PaymentKind.SALE, status, Money.of("10.00"), NOW)
    return PaymentObserved(f"{txn}:{status}", payment)


async def test_the_first_poll_looks_back_and_sets_the_watermark():
    source, store, clock = (
        FakePaymentSource([observed("1")]),
        FakePaymentEventStore(),
        ManualClock(NOW),
    )
    result = await poll_payments(CMD, source=source, store=store, clock=clock)
    assert (result.seen, result.new, result.duplicates) == (1, 1, 0)
    assert source.asked == [(NOW - timedelta(days=1), NOW)]
    assert store.watermarks == {"poll:fakepay": NOW}


async def test_later_polls_overlap_the_last_window_and_skip_what_was_seen():
    source, store, clock = (
        FakePaymentSource([observed("1")]),
        FakePaymentEventStore(),
        ManualClock(NOW),
    )
    await poll_payments(CMD, source=source, store=store, clock=clock)
    clock.advance(minutes=1)
    source.events.append(observed("1", PaymentStatus.SETTLED))
    result = await poll_payments(CMD, source=source, store=store, clock=clock)
    assert source.asked[-1] == (NOW - timedelta(minutes=30), NOW + timedelta(minutes=1))
    assert (result.new, result.duplicates) == (1, 1)


async def test_a_failed_store_leaves_the_watermark_so_the_window_is_polled_again():
    source = FakePaymentSource([observed("1")])
    store = FakePaymentEventStore(fail_next=[ConnectionError("database down")])
    clock = ManualClock(NOW)
    with pytest.raises(ConnectionError):
        await poll_payments(CMD, source=source, store=store, clock=clock)
    assert store.watermarks == {}
    clock.advance(minutes=5)
    await poll_payments(CMD, source=source, store=store, clock=clock)
    assert source.asked[-1][0] == NOW + timedelta(minutes=5) - timedelta(days=1)
    assert len(store.events) == 1
