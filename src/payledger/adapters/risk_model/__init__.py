"""The anomaly model and the rules combined into one risk scorer (being built: issue #19)."""

from __future__ import annotations

from payledger.config import RiskSettings
from payledger.flows.ports.risk import RiskScorer, RiskTrainer


def load_scorer(settings: RiskSettings) -> RiskScorer:
    """The scorer for these settings: the rules plus the model in use, if any."""
    raise NotImplementedError("the risk scorer lands with issue #19's core slice")


def load_trainer(settings: RiskSettings) -> RiskTrainer:
    """The trainer that writes new model versions where ``load_scorer`` finds them."""
    raise NotImplementedError("the risk trainer lands with issue #19's core slice")
