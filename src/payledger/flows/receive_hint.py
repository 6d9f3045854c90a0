"""Signed hints that a payment changed: recorded at once, fetched from the gateway afterwards.

A notification says only *which* transaction changed. Its content is never trusted: the
payment is read back from the gateway by id, so forged or stale details cannot reach the
ledger and out-of-order notifications simply yield the current state. Two steps, so that the
sender's delivery never waits on the gateway (nor fails when the gateway is down):

* :func:`record_hint`, while the sender waits: the delivery id and the hint are committed in
  one transaction, with the job that fetches the payment; a delivery id seen before stores
  nothing again.
* :func:`fetch_hinted`, that job: the payment is fetched by id and goes into the same inbox
  under the same key as the poller's, so a payment seen by both is processed once. A gateway
  that is down or slow fails the attempt (the job retries with backoff); a transaction the
  gateway does not know, or an answer carrying card data, parks the hint for a human.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from payledger.domain.errors import (
    AuthError,
    CardDataRejected,
    DomainError,
    RejectedError,
    TransientError,
)
from payledger.domain.events import PaymentHinted
from payledger.flows.ports import DeliveryLog, HintedPayments, PaymentLookup


@dataclass(frozen=True)
class RecordHint:
    hint: PaymentHinted
    fingerprint: str
    """A digest of the delivered body, to tell a replay from a reused id."""


class HintOutcome(StrEnum):
    ACCEPTED = "accepted"
    """The hint is committed; its payment is fetched from the gateway next."""
    REPLAYED = "replayed"
    """This delivery was received before; nothing was done again."""


@dataclass(frozen=True)
class HintReceipt:
    outcome: HintOutcome
    event_id: str = ""


class DeliveryReused(DomainError):
    """A delivery id arrived again with a different body."""


async def record_hint(cmd: RecordHint, *, deliveries: DeliveryLog) -> HintReceipt:
    """Raises:
    DeliveryReused: the delivery id was used before for a different body.
    TransientError: the database cannot be reached (retry later).
    """
    delivery_id = cmd.hint.delivery_id
    seen = await deliveries.known_fingerprint(delivery_id)
    if seen is None:
        recorded = await deliveries.record(cmd.hint, cmd.fingerprint)
        if recorded.earlier_fingerprint is None:
            return HintReceipt(HintOutcome.ACCEPTED, recorded.event_id)
        seen = recorded.earlier_fingerprint
    if seen != cmd.fingerprint:
        raise DeliveryReused(f"delivery {delivery_id} was received before with a different body")
    return HintReceipt(HintOutcome.REPLAYED)


@dataclass(frozen=True)
class FetchHinted:
    hint_id: int
    """The hint's inbox id."""
    transaction_id: str
    timeout_s: float = 10.0
    """How long the gateway may take to answer before the attempt fails (and is retried)."""


@dataclass(frozen=True)
class Fetched:
    event_id: str
    """The fetched payment's inbox key (the poller's)."""
    new: bool
    """False when the inbox already held this payment state (polled, or hinted before)."""


async def fetch_hinted(
    cmd: FetchHinted, *, lookup: PaymentLookup, hints: HintedPayments
) -> Fetched:
    """Raises:
    TransientError: the gateway or the database cannot be reached, or the gateway did not
        answer in time; nothing changed, try again later.
    AuthError: the gateway refused payledger's credentials; the hint waits for a replay.
    RejectedError: the gateway does not know the transaction; the hint is parked.
    CardDataRejected: the gateway's answer holds card data; nothing of it is stored and the
        hint is parked.
    """
    try:
        async with asyncio.timeout(cmd.timeout_s):
            observed = await lookup.payment_by_id(cmd.transaction_id)
    except TimeoutError:
        raise TransientError(
            f"the gateway did not answer within {cmd.timeout_s:g} s",
            system=lookup.name,
            operation="payment_by_id",
        ) from None
    except AuthError:
        raise  # the credentials are wrong, not the hint
    except RejectedError as exc:
        await hints.park(
            cmd.hint_id, f"{lookup.name} does not know transaction {cmd.transaction_id}: {exc}"
        )
        raise
    try:
        new = await hints.fetched(cmd.hint_id, lookup.name, observed)
    except CardDataRejected as exc:
        await hints.park(cmd.hint_id, str(exc))
        raise
    return Fetched(observed.event_id, new)
