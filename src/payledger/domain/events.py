"""Events that flow from the gateway into payledger."""

from __future__ import annotations

from dataclasses import dataclass

from payledger.domain.model import Payment


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
class DeliveryRecorded:
    """What storing one signed delivery did: its event was ``new`` to the inbox or not; when
    the delivery id had been stored already (a copy that raced this one), nothing was stored
    and ``earlier_fingerprint`` is the fingerprint it was stored with."""

    new: bool
    earlier_fingerprint: str | None = None
