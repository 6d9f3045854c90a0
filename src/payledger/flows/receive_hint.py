"""Receive a signed hint that a payment changed: re-fetch it, store what was fetched, once.

A notification says only *which* transaction changed. Its content is never trusted: the
payment is read back from the gateway by id, so forged or stale details cannot reach the
ledger and out-of-order notifications simply yield the current state. The fetched payment goes
into the same inbox under the same key as the poller's, so a payment seen by both is
processed once; a delivery id seen before is answered without storing anything again (and,
when the log already knows it, without fetching either).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from payledger.domain.errors import DomainError, TransientError
from payledger.flows.ports import DeliveryLog, PaymentLookup


@dataclass(frozen=True)
class ReceiveHint:
    delivery_id: str
    """The sender's id of the delivery (the same on every retry of it)."""
    fingerprint: str
    """A digest of the delivered body, to tell a replay from a reused id."""
    transaction_id: str
    fetch_timeout_s: float = 10.0
    """How long the gateway may take to answer the re-fetch."""


class HintOutcome(StrEnum):
    ACCEPTED = "accepted"
    """The fetched payment state is new: it is in the inbox, committed."""
    DUPLICATE = "duplicate"
    """The inbox already held this payment state (from the poller or another delivery)."""
    REPLAYED = "replayed"
    """This delivery was received before; nothing was done again."""


@dataclass(frozen=True)
class HintReceipt:
    outcome: HintOutcome
    event_id: str = ""


class DeliveryReused(DomainError):
    """A delivery id arrived again with a different body."""


async def receive_hint(
    cmd: ReceiveHint, *, lookup: PaymentLookup, deliveries: DeliveryLog
) -> HintReceipt:
    """Raises:
    DeliveryReused: the delivery id was used before for a different body.
    RejectedError: the gateway does not know the transaction.
    TransientError: the gateway or the database cannot be reached (retry later).
    """
    seen = await deliveries.known_fingerprint(cmd.delivery_id)
    if seen is not None:
        return _replayed(cmd, seen)
    try:
        async with asyncio.timeout(cmd.fetch_timeout_s):
            observed = await lookup.payment_by_id(cmd.transaction_id)
    except TimeoutError:
        raise TransientError(
            f"the gateway did not answer within {cmd.fetch_timeout_s:g} s",
            system=lookup.name,
            operation="payment_by_id",
        ) from None
    recorded = await deliveries.record(lookup.name, cmd.delivery_id, cmd.fingerprint, observed)
    if recorded.earlier_fingerprint is not None:
        return _replayed(cmd, recorded.earlier_fingerprint)
    outcome = HintOutcome.ACCEPTED if recorded.new else HintOutcome.DUPLICATE
    return HintReceipt(outcome, observed.event_id)


def _replayed(cmd: ReceiveHint, seen: str) -> HintReceipt:
    if seen != cmd.fingerprint:
        raise DeliveryReused(
            f"delivery {cmd.delivery_id} was received before with a different body"
        )
    return HintReceipt(HintOutcome.REPLAYED)
