"""Fakes of the webhook hint ports: the delivery log, the gateway's lookup by id and where
fetched payments go. They record what happened and take fault knobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, final

from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.card_data import find_card_data
from payledger.domain.codec import payment_to_dict
from payledger.domain.errors import CardDataRejected, RejectedError
from payledger.domain.events import DeliveryRecorded, PaymentHinted, PaymentObserved
from payledger.flows.ports import DeliveryLog, HintedPayments, PaymentLookup

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)


def observed(
    txn: str, status: PaymentStatus = PaymentStatus.APPROVED, **extra: Any
) -> PaymentObserved:
    payment = Payment(txn, PaymentKind.SALE, status, Money.of("10.00"), WHEN, **extra)
    return PaymentObserved(f"fakepay:{txn}:sale:{status.value}", payment)


@final
class FakeDeliveryLog(DeliveryLog):
    """Deliveries by id; ``remembers`` says whether ``known_fingerprint`` answers from memory
    (else only ``record`` finds a delivery stored before, as after a restart)."""

    def __init__(self, *, remembers: bool = True) -> None:
        self.stored: dict[str, tuple[str, PaymentHinted]] = {}
        self.remembers = remembers

    async def known_fingerprint(self, delivery_id: str) -> str | None:
        if not self.remembers or delivery_id not in self.stored:
            return None
        return self.stored[delivery_id][0]

    async def record(self, hint: PaymentHinted, fingerprint: str) -> DeliveryRecorded:
        if hint.delivery_id in self.stored:
            return DeliveryRecorded(earlier_fingerprint=self.stored[hint.delivery_id][0])
        self.stored[hint.delivery_id] = (fingerprint, hint)
        return DeliveryRecorded(event_id=hint.event_id)


@final
class FakePaymentLookup(PaymentLookup):
    """The gateway's payments by transaction id; unknown ids are refused like the gateway's."""

    name = "fakepay"

    def __init__(
        self,
        *payments: PaymentObserved,
        fail_next: list[Exception] | None = None,
        answer_after_s: float = 0.0,
    ) -> None:
        self.payments = {p.payment.gateway_txn_id: p for p in payments}
        self.asked: list[str] = []
        self._fail_next = list(fail_next or [])
        self._answer_after_s = answer_after_s

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        self.asked.append(transaction_id)
        if self._fail_next:
            raise self._fail_next.pop(0)
        await asyncio.sleep(self._answer_after_s)
        if transaction_id not in self.payments:
            raise RejectedError(
                f"no transaction {transaction_id}", system=self.name, operation="payment_by_id"
            )
        return self.payments[transaction_id]


@final
class FakeHintedPayments(HintedPayments):
    """Where fetched payments went (by source and event id) and how each hint ended; refuses
    card data as the inbox does."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], PaymentObserved] = {}
        self.hints: dict[int, tuple[str, str]] = {}
        """hint id → (status, error)."""

    async def fetched(self, hint_id: int, source: str, event: PaymentObserved) -> bool:
        card_fields = find_card_data(payment_to_dict(event.payment))
        if card_fields:
            raise CardDataRejected(card_fields)
        new = (source, event.event_id) not in self.events
        self.events.setdefault((source, event.event_id), event)
        self.hints[hint_id] = ("processed", "")
        return new

    async def park(self, hint_id: int, error: str) -> None:
        self.hints[hint_id] = ("parked", error)
