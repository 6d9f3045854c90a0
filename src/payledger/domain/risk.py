"""Risk screening: what is scored, what a score says, and what it decides.

A :class:`RiskSubject` is one payment event as the screen sees it (a sale, authorization,
refund or decline), with the little it knows of where it came from. The rules and the anomaly
model each give :class:`Reason` s; :func:`decide` turns the combined score into an
:class:`Action` by the merchant's thresholds. Nothing here does I/O: the history a rule looks
back on arrives as a :class:`RiskHistory` the store has gathered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from payledger.domain.errors import DomainError
from payledger.domain.money import Money


class SubjectKind(StrEnum):
    SALE = "sale"
    AUTHORIZATION = "authorization"
    REFUND = "refund"
    DECLINE = "decline"
    """A sale or authorization the issuer refused."""


class Action(StrEnum):
    ALLOW = "allow"
    """Nothing to see: posted and charged as usual."""
    ALERT = "alert"
    """Operators are told; nothing is held."""
    REVIEW = "review"
    """Operators are told, and what payledger itself would start (the posting, an automatic
    charge or refund) waits in the review queue for an approval."""


@dataclass(frozen=True)
class RiskSubject:
    """One payment event to screen. Card data never appears: a card is its vault token."""

    transaction_id: str
    kind: SubjectKind
    amount: Money
    occurred_at: datetime
    customer_id: str = ""
    card_token: str = ""
    """The PayTrace vault customer or a stable fingerprint of the masked card: never a PAN."""
    billing_zip: str = ""
    ip_address: str = ""
    avs_result: str = ""
    """PayTrace's AVS response text, as given."""
    csc_result: str = ""
    invoice_ref: str = ""
    original_transaction_id: str = ""
    """For a refund: the sale it returns."""
    original_card_token: str = ""
    """For a refund: the card the sale was made on."""
    original_amount: Money | None = None
    """For a refund: the sale's amount, when known."""
    original_occurred_at: datetime | None = None
    """For a refund: when the sale was made, when known."""


@dataclass(frozen=True)
class CustomerProfile:
    """What the merchant's history says of one customer before this event."""

    payments: int = 0
    total: Money | None = None
    largest: Money | None = None
    mean: Money | None = None
    first_seen: datetime | None = None
    refunds: int = 0


@dataclass(frozen=True)
class RiskHistory:
    """Earlier events the rules look back on: the store gathers them, nothing here reads.

    Each sequence holds events before the subject, newest first, within the longest window
    any rule uses; ``same_invoice`` holds earlier approved charges of the subject's invoice.
    """

    by_customer: Sequence[RiskSubject] = ()
    by_card: Sequence[RiskSubject] = ()
    by_zip: Sequence[RiskSubject] = ()
    by_ip: Sequence[RiskSubject] = ()
    declines: Sequence[RiskSubject] = ()
    """The merchant's recent declines, for card-testing bursts."""
    same_invoice: Sequence[RiskSubject] = ()
    customer: CustomerProfile = field(default_factory=CustomerProfile)


@dataclass(frozen=True)
class Reason:
    """Why a subject scored what it did: a stable code, a sentence, and its share."""

    code: str
    """e.g. ``velocity_customer``, ``card_testing``, ``model_outlier``."""
    detail: str
    weight: float
    """This reason's contribution to the score, 0..1."""


@dataclass(frozen=True)
class Assessment:
    """A subject's score, the reasons behind it and the action it decided."""

    score: float
    action: Action
    reasons: tuple[Reason, ...] = ()
    model_version: str = ""
    """The anomaly model that took part; empty when only the rules scored."""


@dataclass(frozen=True)
class Thresholds:
    """Scores from ``alert_at`` are alerted; from ``review_at`` held for review."""

    alert_at: float = 0.5
    review_at: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.alert_at <= self.review_at <= 1:
            raise DomainError("risk thresholds need 0 < alert_at <= review_at <= 1")


def decide(score: float, thresholds: Thresholds) -> Action:
    """The action a score calls for."""
    if score >= thresholds.review_at:
        return Action.REVIEW
    if score >= thresholds.alert_at:
        return Action.ALERT
    return Action.ALLOW
