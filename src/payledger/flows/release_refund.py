"""Carry a refund held for risk review on once an operator decided: approved, it is refunded
exactly once; rejected, never.

The review's decision enqueues this step's job (once); a job run again (redelivered, or a
second approval) finds the review already carrying the refund's transaction and does
nothing. A run cut off after the gateway refunded but before the review was told looks the
refund up at the gateway (made since the approval) and records that one instead of refunding
again.
"""

from __future__ import annotations

from dataclasses import dataclass

from payledger.domain.errors import DomainError
from payledger.flows.charge_payment import ChargeContext, record_refund, refund_payment
from payledger.flows.ports.risk import HeldKind
from payledger.flows.screen_charge import Screened, item_made, review_assessment
from payledger.flows.screen_refund import RefundStatus, refund_status


@dataclass(frozen=True)
class HeldRefund:
    """A refund request held for review, as its release job carries it."""

    payment_id: str
    client: str
    ref: str
    """Its review key (:func:`~payledger.flows.screen_refund.refund_key`)."""


async def release_refund(held: HeldRefund, ctx: ChargeContext) -> RefundStatus:
    """Refund an approved held refund once; a held, rejected or made one is left as it is."""
    items = ctx.items
    if items is None:
        raise DomainError("risk screening is off: a held refund cannot be released")
    item = await items.holds.review(HeldKind.REFUND, held.ref)
    if item is None:
        raise DomainError(f"no refund {held.ref} was held for review")
    status = refund_status(item)
    if status is not RefundStatus.APPROVED:
        return status
    original = await ctx.records.get(held.payment_id)
    if original is None:
        raise DomainError(f"no payment {held.payment_id} was made through payledger")
    since = item.decided_at or item.created_at
    found = await ctx.gateway.find_refund(original, item.amount, since)
    if found is None:
        await refund_payment(
            held.payment_id, item.amount.amount, held.client, ctx, review_key=held.ref
        )
        return RefundStatus.REFUNDED
    # an earlier run refunded and was cut off: record its refund, never a second one
    await item_made(
        Screened(HeldKind.REFUND, held.ref, review_assessment(item), True), found, items
    )
    if await ctx.records.get(found.gateway_txn_id) is None:
        await record_refund(original, found, held.client, ctx)
    return RefundStatus.REFUNDED


__all__ = ["HeldRefund", "release_refund"]
