"""Fakes of the risk screening ports: a scorer with fault knobs, and the assessments and
review queue kept in memory (with the SQL store's hold-and-release rules)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import final

from payledger.domain.errors import DomainError
from payledger.domain.money import Money
from payledger.domain.risk import (
    Assessment,
    Reason,
    RiskHistory,
    RiskSubject,
    SubjectKind,
    Thresholds,
    decide,
)
from payledger.flows.ports.risk import (
    Burst,
    Decided,
    HeldItems,
    HeldKind,
    ModelInfo,
    ReleaseJob,
    ReviewItem,
    ReviewQueue,
    ReviewState,
    RiskScorer,
    RiskStore,
    RiskTrainer,
    TrainingEvents,
)


@final
class FakeRiskScorer(RiskScorer):
    """Scores by ``score_of(subject)`` (default: a fixed ``score``); ``fail`` raises it on
    every call; ``problem`` plays a broken model."""

    def __init__(
        self,
        score: float = 0.1,
        *,
        score_of: Callable[[RiskSubject], float] | None = None,
        fail: Exception | None = None,
        problem: str = "",
        thresholds: Thresholds = Thresholds(),
    ) -> None:
        self._score = score_of or (lambda _subject: score)
        self.fail = fail
        self.problem = problem
        self.thresholds = thresholds
        self.seen: list[tuple[RiskSubject, RiskHistory]] = []

    @property
    def model_version(self) -> str:
        return "" if self.problem else "fake-1"

    @property
    def model_problem(self) -> str:
        return self.problem

    def assess(self, subject: RiskSubject, history: RiskHistory) -> Assessment:
        if self.fail is not None:
            raise self.fail
        self.seen.append((subject, history))
        score = self._score(subject)
        reasons = (Reason("fake_rule", f"scored {score}", score),) if score else ()
        return Assessment(score, decide(score, self.thresholds), reasons, self.model_version)


@final
class FakeRiskTrainer(RiskTrainer):
    def __init__(self, least: int = 1) -> None:
        self.least = least
        self.trained: list[Sequence[RiskSubject]] = []

    def train(self, events: Sequence[RiskSubject]) -> ModelInfo:
        if len(events) < self.least:
            raise DomainError(f"need {self.least} events to train, have {len(events)}")
        self.trained.append(events)
        return ModelInfo(f"v{len(self.trained)}", events[-1].occurred_at, len(events))


@final
class FakeRiskStore(RiskStore, ReviewQueue, TrainingEvents, HeldItems):
    """Assessments, reviews and their releases in memory; ``released`` lists the inbox ids
    approvals released, in order (a release is listed once, like the SQL store's job);
    ``jobs`` the release jobs of held charges and refunds, enqueued once on a decision."""

    def __init__(self) -> None:
        self.assessed: dict[tuple[str, SubjectKind], tuple[RiskSubject, Assessment]] = {}
        self.reviews: dict[int, ReviewItem] = {}
        self.held: dict[int, list[int]] = {}
        self.events: dict[int, str] = {}
        """Inbox id -> ``held`` / ``rejected``."""
        self.released: list[int] = []
        self.item_releases: dict[int, list[ReleaseJob]] = {}
        self.jobs: list[ReleaseJob] = []
        self._ids = itertools.count(1)

    async def assessment(self, transaction_id: str, kind: SubjectKind) -> Assessment | None:
        found = self.assessed.get((transaction_id, kind))
        return found[1] if found else None

    async def card_of(self, transaction_id: str) -> str:
        for (txn, _kind), (subject, _a) in self.assessed.items():
            if txn == transaction_id and subject.card_token:
                return subject.card_token
        return ""

    async def screened(self, transaction_id: str) -> RiskSubject | None:
        found = [s for (txn, _kind), (s, _a) in self.assessed.items() if txn == transaction_id]
        return found[0] if found else None

    async def history(self, subject: RiskSubject, since: datetime) -> RiskHistory:
        earlier = sorted(
            (
                s
                for s, _ in self.assessed.values()
                if since <= s.occurred_at <= subject.occurred_at
                and s.transaction_id != subject.transaction_id
            ),
            key=lambda s: s.occurred_at,
            reverse=True,
        )
        return RiskHistory(
            by_customer=[s for s in earlier if subject.customer_id == s.customer_id != ""],
            by_card=[s for s in earlier if subject.card_token == s.card_token != ""],
            declines=[s for s in earlier if s.kind is SubjectKind.DECLINE],
        )

    async def record(self, subject: RiskSubject, assessment: Assessment, at: datetime) -> bool:
        key = (subject.transaction_id, subject.kind)
        if key in self.assessed:
            return False
        self.assessed[key] = (subject, assessment)
        return True

    async def burst(self, since: datetime, small: Money) -> Burst:
        recent = [s for s, _ in self.assessed.values() if s.occurred_at >= since]
        declines = [s for s in recent if s.kind is SubjectKind.DECLINE]
        smalls = [s for s in recent if s.kind is SubjectKind.AUTHORIZATION and s.amount <= small]
        total = sum((s.amount for s in declines), Money.zero(small.currency))
        return Burst(len(declines), len(smalls), total if declines else None)

    async def hold_posting(
        self, subject: RiskSubject, inbox_id: int, assessment: Assessment, *, open_review: bool
    ) -> ReviewState | None:
        item = self._find(HeldKind.POSTING, subject.transaction_id)
        if item is None and open_review:
            item = ReviewItem(
                id=next(self._ids),
                kind=HeldKind.POSTING,
                ref=subject.transaction_id,
                transaction_id=subject.transaction_id,
                state=ReviewState.PENDING,
                score=assessment.score,
                reasons=assessment.reasons,
                amount=subject.amount,
                customer_id=subject.customer_id,
                created_at=subject.occurred_at,
            )
            self.reviews[item.id] = item
        if item is None:
            return None
        if item.state is ReviewState.PENDING:
            held = self.held.setdefault(item.id, [])
            if inbox_id not in held:
                held.append(inbox_id)
        if item.state is not ReviewState.APPROVED:
            self.events[inbox_id] = "held" if item.state is ReviewState.PENDING else "rejected"
        return item.state

    def _find(self, kind: HeldKind, ref: str) -> ReviewItem | None:
        return next((i for i in self.reviews.values() if (i.kind, i.ref) == (kind, ref)), None)

    async def items(self, state: ReviewState | None = ReviewState.PENDING) -> list[ReviewItem]:
        return [i for i in self.reviews.values() if state is None or i.state is state]

    async def item(self, item_id: int) -> ReviewItem | None:
        return self.reviews.get(item_id)

    async def decide(
        self, item_id: int, *, approve: bool, actor: str, comment: str, at: datetime
    ) -> Decided:
        item = self.reviews.get(item_id)
        if item is None:
            raise DomainError(f"review item {item_id} does not exist")
        if item.state is not ReviewState.PENDING:
            return Decided(item, applied=False)
        state = ReviewState.APPROVED if approve else ReviewState.REJECTED
        item = replace(item, state=state, decided_by=actor, decided_at=at, comment=comment)
        self.reviews[item_id] = item
        self.jobs += self.item_releases.pop(item_id, [])
        held = self.held.get(item_id, [])
        if approve:
            self.released += held
        else:
            self.events.update({inbox_id: state.value for inbox_id in held})
        return Decided(item, applied=True, released=len(held) if approve else 0)

    async def review(self, kind: HeldKind, ref: str) -> ReviewItem | None:
        return self._find(kind, ref)

    async def reviews_under(self, kind: HeldKind, ref_prefix: str) -> list[ReviewItem]:
        return [i for i in self.reviews.values() if i.kind is kind and i.ref.startswith(ref_prefix)]

    async def hold_item(
        self,
        kind: HeldKind,
        ref: str,
        subject: RiskSubject,
        assessment: Assessment,
        release: ReleaseJob,
    ) -> ReviewItem:
        item = self._find(kind, ref)
        if item is None:
            item = ReviewItem(
                id=next(self._ids),
                kind=kind,
                ref=ref,
                transaction_id=subject.transaction_id,
                state=ReviewState.PENDING,
                score=assessment.score,
                reasons=assessment.reasons,
                amount=subject.amount,
                customer_id=subject.customer_id,
                created_at=subject.occurred_at,
            )
            self.reviews[item.id] = item
        releases = self.item_releases.setdefault(item.id, [])
        if item.state is ReviewState.PENDING and release not in releases:
            releases.append(release)
        return item

    async def link(self, kind: HeldKind, ref: str, transaction_id: str) -> None:
        item = self._find(kind, ref)
        if item is not None:
            self.reviews[item.id] = replace(item, transaction_id=transaction_id)

    async def training_events(self, limit: int) -> list[RiskSubject]:
        subjects = sorted((s for s, _ in self.assessed.values()), key=lambda s: s.occurred_at)
        return subjects[-limit:]
