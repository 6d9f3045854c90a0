"""Risk screening as its flows see it: what scores a subject and what trains the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from payledger.domain.risk import Assessment, RiskHistory, RiskSubject


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
