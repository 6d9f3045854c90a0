"""An operator's decision on a held item: approval releases it (once), rejection keeps it
from the ledger or the gateway for good, and operators hear of it."""

from __future__ import annotations

from payledger.domain.clock import Clock
from payledger.flows.ports.alerts import OperatorAlerts
from payledger.flows.ports.risk import Decided, HeldKind, ReviewQueue, ReviewState

_NEVER = {
    HeldKind.POSTING: "will never be posted to the ledger",
    HeldKind.CHARGE: "will not be charged",
    HeldKind.REFUND: "will not be refunded",
}


async def decide_review(
    item_id: int,
    *,
    approve: bool,
    actor: str,
    comment: str,
    queue: ReviewQueue,
    alerts: OperatorAlerts,
    clock: Clock,
) -> Decided:
    """Approve or reject item ``item_id`` for ``actor``; a second decision changes nothing.

    Raises:
        DomainError: there is no such item.
    """
    decided = await queue.decide(
        item_id, approve=approve, actor=actor, comment=comment.strip()[:2000], at=clock.now()
    )
    item = decided.item
    if decided.applied and item.state is ReviewState.REJECTED:
        await alerts.notify(
            f"risk-rejected:{item.kind.value}:{item.ref}",
            f"Held {item.kind.value} {item.ref} rejected by {actor}",
            f"The {item.kind.value} of {item.amount} (transaction {item.transaction_id or '-'}) "
            f"{_NEVER[item.kind]}. {comment}".strip(),
            facts={"score": f"{item.score:.2f}", "by": actor},
        )
    return decided
