"""The inbox as flows see it: observed payments stored once, the poll watermark, and the
webhook deliveries whose hints are fetched into it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from payledger.domain.events import DeliveryRecorded, PaymentHinted, PaymentObserved, Recorded


class PaymentEventStore(Protocol):
    """Durable, deduplicated storage of observed payments plus the poll watermark."""

    async def watermark(self, name: str) -> datetime | None:
        """Where the last complete poll of ``name`` ended, if it ever ran."""
        ...

    async def record(
        self, source: str, events: Sequence[PaymentObserved], *, watermark: tuple[str, datetime]
    ) -> Recorded:
        """Store the events (duplicates ignored) and move the watermark, in one transaction."""
        ...


class DeliveryLog(Protocol):
    """Signed deliveries already received (the replay defence), and the inbox their hints go to."""

    async def known_fingerprint(self, delivery_id: str) -> str | None:
        """The body fingerprint ``delivery_id`` is known, without a round trip, to have arrived
        with before; None does not prove it new (``record`` decides)."""
        ...

    async def record(self, hint: PaymentHinted, fingerprint: str) -> DeliveryRecorded:
        """Remember the delivery and store its hint in the inbox, with the job that fetches the
        hinted payment, in one transaction; a delivery id stored before stores nothing and
        reports its ``earlier_fingerprint``."""
        ...


class HintedPayments(Protocol):
    """Where the payment fetched for a stored hint goes, and how the hint ends."""

    async def fetched(self, hint_id: int, source: str, event: PaymentObserved) -> bool:
        """Store ``event`` in the inbox as the poller would (same key, so a payment seen by
        both is one event) and mark the hint processed, in one transaction; True if the
        payment state was new.

        Raises:
            CardDataRejected: the payment holds card data; nothing is stored.
        """
        ...

    async def park(self, hint_id: int, error: str) -> None:
        """The hint cannot be acted on: mark it parked with ``error``, for a human."""
        ...
