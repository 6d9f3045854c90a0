"""Webhook hints: recorded once per delivery while the sender waits; fetched from the gateway
afterwards, where only the fetched payment is stored and a hint that cannot be acted on is
parked for a human."""

from __future__ import annotations

import pytest

from payledger.domain import PaymentStatus
from payledger.domain.errors import AuthError, CardDataRejected, RejectedError, TransientError
from payledger.domain.events import PaymentHinted
from payledger.flows.receive_hint import (
    DeliveryReused,
    Fetched,
    FetchHinted,
    HintOutcome,
    HintReceipt,
    RecordHint,
    fetch_hinted,
    record_hint,
)
from tests.fakes_hints import FakeDeliveryLog, FakeHintedPayments, FakePaymentLookup, observed

HINT = PaymentHinted("msg_1", 1_774_371_600, "125391201", "transaction.created")


async def test_a_new_delivery_is_recorded_and_accepted():
    deliveries = FakeDeliveryLog()

    receipt = await record_hint(RecordHint(HINT, "fp1"), deliveries=deliveries)

    assert receipt == HintReceipt(HintOutcome.ACCEPTED, "msg_1@1774371600")
    assert deliveries.stored == {"msg_1": ("fp1", HINT)}


@pytest.mark.parametrize("remembers", [True, False], ids=["remembered", "found-on-record"])
async def test_a_delivery_received_before_with_the_same_body_is_a_replay(remembers):
    deliveries = FakeDeliveryLog(remembers=remembers)
    await record_hint(RecordHint(HINT, "fp1"), deliveries=deliveries)
    retry = PaymentHinted("msg_1", 1_774_371_660, "125391201", "transaction.created")

    receipt = await record_hint(RecordHint(retry, "fp1"), deliveries=deliveries)

    assert receipt == HintReceipt(HintOutcome.REPLAYED)
    assert deliveries.stored == {"msg_1": ("fp1", HINT)}


@pytest.mark.parametrize("remembers", [True, False], ids=["remembered", "found-on-record"])
async def test_a_delivery_id_reused_for_another_body_is_refused(remembers):
    deliveries = FakeDeliveryLog(remembers=remembers)
    await record_hint(RecordHint(HINT, "fp1"), deliveries=deliveries)
    other = PaymentHinted("msg_1", 1_774_371_660, "999", "transaction.voided")

    with pytest.raises(DeliveryReused, match="msg_1"):
        await record_hint(RecordHint(other, "fp2"), deliveries=deliveries)
    assert deliveries.stored == {"msg_1": ("fp1", HINT)}


def test_a_hint_is_keyed_by_its_delivery_and_signing_time_within_the_inbox_key_length():
    assert HINT.event_id == "msg_1@1774371600"
    assert HINT.payload == {"transaction_id": "125391201", "type": "transaction.created"}
    long_id = PaymentHinted("m" * 200, 1_774_371_600, "1", "transaction.created")
    assert len(long_id.event_id) <= 200
    assert long_id.event_id.endswith("@1774371600")
    assert long_id.event_id != PaymentHinted("m" * 199, 1_774_371_600, "1", "x").event_id


# ---- the fetch job ------------------------------------------------------------------------


async def test_the_fetched_payment_goes_to_the_inbox_and_the_hint_is_processed():
    voided = observed("7", PaymentStatus.VOIDED)
    lookup, hints = FakePaymentLookup(voided), FakeHintedPayments()

    fetched = await fetch_hinted(FetchHinted(41, "7"), lookup=lookup, hints=hints)

    assert fetched == Fetched("fakepay:7:sale:voided", new=True)
    assert lookup.asked == ["7"]
    assert hints.events == {("fakepay", "fakepay:7:sale:voided"): voided}
    assert hints.hints == {41: ("processed", "")}


async def test_a_payment_state_already_in_the_inbox_is_not_new():
    lookup, hints = FakePaymentLookup(observed("7")), FakeHintedPayments()
    await fetch_hinted(FetchHinted(41, "7"), lookup=lookup, hints=hints)

    again = await fetch_hinted(FetchHinted(42, "7"), lookup=lookup, hints=hints)

    assert again == Fetched("fakepay:7:sale:approved", new=False)
    assert len(hints.events) == 1
    assert hints.hints == {41: ("processed", ""), 42: ("processed", "")}


async def test_a_gateway_that_is_down_fails_the_attempt_and_the_hint_waits_for_the_retry():
    down = TransientError("503 from the gateway", system="fakepay")
    lookup, hints = FakePaymentLookup(observed("7"), fail_next=[down]), FakeHintedPayments()

    with pytest.raises(TransientError):
        await fetch_hinted(FetchHinted(41, "7"), lookup=lookup, hints=hints)
    assert hints.hints == {} and hints.events == {}

    await fetch_hinted(FetchHinted(41, "7"), lookup=lookup, hints=hints)  # the retry
    assert hints.hints == {41: ("processed", "")}
    assert list(hints.events) == [("fakepay", "fakepay:7:sale:approved")]


async def test_a_gateway_that_does_not_answer_in_time_fails_the_attempt():
    lookup = FakePaymentLookup(observed("7"), answer_after_s=1.0)
    hints = FakeHintedPayments()

    with pytest.raises(TransientError, match=r"did not answer within 0\.05 s"):
        await fetch_hinted(FetchHinted(41, "7", timeout_s=0.05), lookup=lookup, hints=hints)
    assert hints.hints == {} and hints.events == {}


async def test_a_transaction_the_gateway_does_not_know_parks_the_hint():
    lookup, hints = FakePaymentLookup(), FakeHintedPayments()

    with pytest.raises(RejectedError) as refused:
        await fetch_hinted(FetchHinted(41, "999"), lookup=lookup, hints=hints)

    assert not refused.value.retryable  # the worker dead-letters it at once
    status, error = hints.hints[41]
    assert status == "parked"
    assert "fakepay does not know transaction 999" in error
    assert hints.events == {}


async def test_refused_credentials_fail_the_attempt_without_parking_the_hint():
    refused = AuthError("invalid_grant", system="fakepay")
    lookup, hints = FakePaymentLookup(observed("7"), fail_next=[refused]), FakeHintedPayments()

    with pytest.raises(AuthError):
        await fetch_hinted(FetchHinted(41, "7"), lookup=lookup, hints=hints)
    assert hints.hints == {}  # a replay once the credentials are fixed fetches it


async def test_card_data_in_the_fetched_payment_parks_the_hint_and_stores_nothing():
    leaky = observed("7", custom_fields={"Note": "card 4111111111111111"})
    lookup, hints = FakePaymentLookup(leaky), FakeHintedPayments()

    with pytest.raises(CardDataRejected):
        await fetch_hinted(FetchHinted(41, "7"), lookup=lookup, hints=hints)

    status, error = hints.hints[41]
    assert status == "parked"
    assert "card number" in error and "4111111111111111" not in error
    assert hints.events == {}
