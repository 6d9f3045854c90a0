"""Screen a charge or refund payledger itself is about to make, before the gateway is called.

Automatic charges (auto-pay, subscription billing, dunning retries) and refunds through the
payments API (:mod:`payledger.flows.screen_refund` builds their subject) are scored as the
payment they would make. In ``enforce`` mode a ``review`` score holds the item in the review
queue under its key, with the job that makes it once it is decided: that job runs the same
step again, which finds the decision here (approved: made, exactly once through the step's
own once-only machinery; rejected: never made). ``shadow`` scores only. A scorer that fails
never holds anything (one ``risk-model`` alert says so).

The assessment is stored under the gateway transaction once the item is made, so the
payment's own screening in ``payment.process`` finds it instead of scoring it again, and an
approved item's review covers its posting.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from payledger.domain.errors import DomainError
from payledger.domain.model import Payment
from payledger.domain.risk import Action, Assessment, RiskSubject
from payledger.flows.ports.risk import HeldItems, HeldKind, ReleaseJob, ReviewItem, ReviewState
from payledger.flows.screen_alerts import alert_on
from payledger.flows.screen_payment import subject_of
from payledger.flows.screening import Screen, assess

log = structlog.get_logger(__name__)


class Held(DomainError):
    """The charge or refund waits in the review queue (item ``review_id``): not made yet."""

    def __init__(self, item: ReviewItem) -> None:
        super().__init__(
            f"the {item.kind.value} {item.ref} is held for risk review (item {item.id}, "
            f"score {item.score:.2f}); it is made once an operator approves it"
        )
        self.item = item


class Rejected(DomainError):
    """An operator rejected the charge or refund in the review queue: it is never made."""

    def __init__(self, item: ReviewItem) -> None:
        super().__init__(
            f"the {item.kind.value} {item.ref} was rejected in risk review by "
            f"{item.decided_by or 'an operator'} (item {item.id}); it will not be made"
        )
        self.item = item


@dataclass(frozen=True)
class ItemScreen:
    """What screens the items one step makes, and the job that makes a held one."""

    screen: Screen
    holds: HeldItems
    release: ReleaseJob


@dataclass(frozen=True)
class Screened:
    """A screened item that may be made: what it scored, and the review it passed (if any)."""

    kind: HeldKind
    ref: str
    assessment: Assessment
    reviewed: bool = False


async def screen_item(
    kind: HeldKind, ref: str, subject: RiskSubject, items: ItemScreen
) -> Screened:
    """Screen the item (``kind``, ``ref``) before it is made.

    Raises:
        Held: it waits for review (the review is opened now, or was before).
        Rejected: an operator rejected it.
    """
    screen = items.screen
    item = await items.holds.review(kind, ref)
    if item is None:
        assessment = await assess(subject, screen)
        if not (screen.policy.enforce and assessment.action is Action.REVIEW):
            await alert_on(subject, assessment, screen)
            return Screened(kind, ref, assessment)
        item = await items.holds.hold_item(kind, ref, subject, assessment, items.release)
        if item.state is ReviewState.PENDING:
            await alert_on(subject, assessment, screen)
    elif item.state is ReviewState.PENDING:  # held before: this attempt is released too
        item = await items.holds.hold_item(
            kind, ref, subject, review_assessment(item), items.release
        )
    if item.state is ReviewState.PENDING:
        raise Held(item)
    if item.state is ReviewState.REJECTED:
        raise Rejected(item)
    return Screened(kind, ref, review_assessment(item), reviewed=True)


async def item_made(screened: Screened, payment: Payment, items: ItemScreen) -> None:
    """The gateway made the item as ``payment``: store its assessment under the transaction
    (its posting's screening finds it) and tie an approved review to it. Never raises: the
    payment's own screening scores it again if this is lost."""
    subject = subject_of(payment)
    try:
        if subject is not None:
            await items.screen.store.record(subject, screened.assessment, items.screen.clock.now())
        if screened.reviewed:
            await items.holds.link(screened.kind, screened.ref, payment.gateway_txn_id)
    except Exception as exc:
        log.warning("risk.item_not_linked", ref=screened.ref, error=str(exc))


def review_assessment(item: ReviewItem) -> Assessment:
    """The assessment a held item was reviewed on."""
    return Assessment(item.score, Action.REVIEW, item.reasons)


def is_made(item: ReviewItem) -> bool:
    """The held item was made: its review carries the gateway's transaction id."""
    return item.transaction_id not in ("", pending_id(item.kind, item.ref))


def pending_id(kind: HeldKind, ref: str) -> str:
    """The transaction id an item is screened under before the gateway gives it one."""
    return f"{kind.value}:{ref}"[:64]


__all__ = [
    "Held",
    "ItemScreen",
    "Rejected",
    "Screened",
    "is_made",
    "item_made",
    "pending_id",
    "review_assessment",
    "screen_item",
]
