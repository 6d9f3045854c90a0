"""Recognise the charges the gateway's own recurring schedules still make.

Such a payment is posted like any other (its journal line says it is recurring). When its
schedule belongs to an imported subscription that was not taken over yet, the period it
falls in is recorded as paid by the gateway's schedule, and the subscription moves past it:
payledger never bills that period too.

The schedule is not named in the gateway's export, so it is found by the customer and the
amount among the subscriptions the gateway still bills; the period is the one running when
the gateway charged (its runs fall on the day a period starts).
"""

from __future__ import annotations

from payledger.domain.model import Payment, PaymentKind
from payledger.flows.ports import ImportedSubscriptions

_CHARGES = frozenset({PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.ACH_SALE})


def _gateway_customer(payment: Payment) -> str:
    if payment.customer and payment.customer.gateway_customer_id:
        return payment.customer.gateway_customer_id
    return payment.token.vault_customer_id if payment.token else ""


async def recognise_schedule_charge(
    payment: Payment, store: ImportedSubscriptions
) -> tuple[int, int] | None:
    """Record ``payment`` against the imported subscription whose period it paid; returns
    (subscription id, period index), or None when it paid none (not a schedule's charge,
    declined, no such subscription, or recorded already)."""
    if not payment.recurring or not payment.is_approved or payment.kind not in _CHARGES:
        return None
    customer = _gateway_customer(payment)
    if not customer:
        return None
    for subscription in await store.billed_by_gateway(customer):
        if subscription.plan.amount != payment.amount:
            continue
        index = subscription.schedule.current_index(payment.occurred_at)
        if index < 0 or not subscription.schedule.exists(index):
            continue
        if await store.record_gateway_charge(subscription.id, index, payment.gateway_txn_id):
            return subscription.id, index
    return None
