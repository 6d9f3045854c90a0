"""Risk screening as its flows see it: what scores a subject and what trains the model, where
assessments are kept, and the review queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from payledger.domain.money import Money
from payledger.domain.risk import Assessment, Reason, RiskHistory, RiskSubject, SubjectKind


@dataclass(frozen=True)
class ModelInfo:
    """One trained anomaly model: its version, when and on how much it was trained."""

    version: str
    trained_at: datetime
    rows: int


class RiskScorer(Protocol):
    """Scores one subject by the rules and, when one is loaded, the anomaly model.

    Never raises for a broken or missing model: it scores by the rules alone and says so in
    ``model_problem`` (the flow alerts on it).
    """

    @property
    def model_version(self) -> str:
        """The model in use; empty when the rules score alone."""
        ...

    @property
    def model_problem(self) -> str:
        """Why no model is in use (missing, corrupt, wrong version); empty when one is."""
        ...

    def assess(self, subject: RiskSubject, history: RiskHistory) -> Assessment: ...


class RiskTrainer(Protocol):
    """Trains a new model on the merchant's history and makes it the one in use."""

    def train(self, events: Sequence[RiskSubject]) -> ModelInfo:
        """``events`` oldest first; raises :class:`DomainError` when there are too few."""
        ...


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class HeldKind(StrEnum):
    """What a review holds: the ledger posting of a payment, or a charge or refund that
    payledger itself would start."""

    POSTING = "posting"
    CHARGE = "charge"
    REFUND = "refund"


@dataclass(frozen=True)
class Burst:
    """The merchant's recent declines and small authorizations, counted in one window."""

    declines: int = 0
    small_authorizations: int = 0
    declined: Money | None = None
    """What the declines asked for in total."""


@dataclass(frozen=True)
class ReviewItem:
    """One held item in the review queue, with what the screen said of it."""

    id: int
    kind: HeldKind
    ref: str
    transaction_id: str
    state: ReviewState
    score: float
    reasons: tuple[Reason, ...]
    amount: Money
    customer_id: str
    created_at: datetime
    decided_by: str = ""
    decided_at: datetime | None = None
    comment: str = ""


@dataclass(frozen=True)
class Decided:
    """How a decision ended: ``applied`` is False when the item was already decided (by
    whoever came first, whose state ``item`` shows)."""

    item: ReviewItem
    applied: bool
    released: int = 0
    """Jobs the approval released (each exactly once)."""


class RiskStore(Protocol):
    """Assessments and the history they are scored against."""

    async def assessment(self, transaction_id: str, kind: SubjectKind) -> Assessment | None:
        """The stored assessment of this event, if it was screened before."""
        ...

    async def card_of(self, transaction_id: str) -> str:
        """The card token an earlier screened event of ``transaction_id`` used ("" unknown)."""
        ...

    async def screened(self, transaction_id: str) -> RiskSubject | None:
        """The first screened event of ``transaction_id`` (e.g. the sale a refund returns)."""
        ...

    async def history(self, subject: RiskSubject, since: datetime) -> RiskHistory:
        """Earlier events than ``subject`` from ``since`` on, as :class:`RiskHistory` says."""
        ...

    async def record(self, subject: RiskSubject, assessment: Assessment, at: datetime) -> bool:
        """Store the assessment once; False when this event was already recorded."""
        ...

    async def burst(self, since: datetime, small: Money) -> Burst:
        """Declines and authorizations up to ``small`` that occurred from ``since`` on."""
        ...

    async def hold_posting(
        self, subject: RiskSubject, inbox_id: int, assessment: Assessment, *, open_review: bool
    ) -> ReviewState | None:
        """Hold the posting of this event while its transaction's review is pending.

        Opens the review when ``open_review`` and there is none; the held event is released
        (processed again) by the approval, once. Returns the review's state, None when the
        transaction has no review (and none was opened).
        """
        ...


class ReviewQueue(Protocol):
    """The review queue as operators work it."""

    async def items(self, state: ReviewState | None = ReviewState.PENDING) -> list[ReviewItem]:
        """Items in ``state`` (all when None), oldest first."""
        ...

    async def item(self, item_id: int) -> ReviewItem | None: ...

    async def decide(
        self, item_id: int, *, approve: bool, actor: str, comment: str, at: datetime
    ) -> Decided:
        """Approve (releasing what is held, once, in the same transaction) or reject a
        pending item, audited; an item decided before is left as it is.

        Raises:
            DomainError: there is no item ``item_id``.
        """
        ...


@dataclass(frozen=True)
class ReleaseJob:
    """The job that carries a held charge or refund on once it is decided: it runs the same
    step again, which asks the review and charges (approved) or marks it rejected."""

    job_kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)


class HeldItems(Protocol):
    """The review queue as the charge and refund screens hold their items in it."""

    async def review(self, kind: HeldKind, ref: str) -> ReviewItem | None:
        """The review of (``kind``, ``ref``), if one was opened."""
        ...

    async def reviews_under(self, kind: HeldKind, ref_prefix: str) -> list[ReviewItem]:
        """The reviews of ``kind`` whose ref starts with ``ref_prefix``, oldest first."""
        ...

    async def hold_item(
        self,
        kind: HeldKind,
        ref: str,
        subject: RiskSubject,
        assessment: Assessment,
        release: ReleaseJob,
    ) -> ReviewItem:
        """Open the review of (``kind``, ``ref``) unless there is one, and add ``release``
        (once) while it is pending; the review as it is now."""
        ...

    async def link(self, kind: HeldKind, ref: str, transaction_id: str) -> None:
        """The held item was made as gateway transaction ``transaction_id``: the review
        covers its posting too."""
        ...


class TrainingEvents(Protocol):
    """The stored events a model is trained on."""

    async def training_events(self, limit: int) -> list[RiskSubject]:
        """The latest ``limit`` screened events, oldest first."""
        ...
