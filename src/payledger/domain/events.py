"""Events that flow from the gateway into payledger."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from payledger.domain.model import Payment

MAX_EVENT_ID = 200


@dataclass(frozen=True, slots=True)
class PaymentObserved:
    """A payment seen at the gateway in a given state.

    ``event_id`` is stable: the same transaction in the same state always has the same id, so
    seeing it again (a re-poll, a re-delivered notification) is recognised as a duplicate,
    while a change of state (approved → settled, authorization → capture) is a new event.
    """

    event_id: str
    payment: Payment


@dataclass(frozen=True, slots=True)
class Recorded:
    """How many observed events were new and how many had been seen before."""

    new: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class PaymentHinted:
    """A signed notification said that a gateway transaction changed.

    Only *which* transaction is trusted: what the payment is comes from fetching it back from
    the gateway by id. ``delivery_id`` is the sender's id of the delivery, the same on every
    retry of it.
    """

    delivery_id: str
    signed_at: int
    """Unix seconds the sender signed this delivery at (its ``webhook-timestamp``)."""
    transaction_id: str
    change: str
    """What the notification says happened, e.g. ``transaction.voided`` (for the record
    only: the fetched state decides)."""

    @property
    def event_id(self) -> str:
        """The hint's inbox key: the delivery id and when it was signed. A retry of a delivery
        keeps both; an id used again after its replay window carries a later time, so it is a
        new event (a delivery id too long for the key is replaced by its digest)."""
        key = f"{self.delivery_id}@{self.signed_at}"
        if len(key) <= MAX_EVENT_ID:
            return key
        return f"{hashlib.sha256(self.delivery_id.encode()).hexdigest()}@{self.signed_at}"

    @property
    def payload(self) -> dict[str, str]:
        """What the inbox keeps of the hint: which transaction, and what was said of it."""
        return {"transaction_id": self.transaction_id, "type": self.change}


@dataclass(frozen=True, slots=True)
class DeliveryRecorded:
    """What storing one signed delivery did: its hint is in the inbox under ``event_id``; or,
    when the delivery id had been stored already (a copy that raced this one), nothing was
    stored and ``earlier_fingerprint`` is the fingerprint it was stored with."""

    event_id: str = ""
    earlier_fingerprint: str | None = None
