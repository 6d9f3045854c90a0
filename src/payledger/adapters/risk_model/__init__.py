"""The anomaly model and the rules combined into one risk scorer (docs/risk.md)."""

from __future__ import annotations

from payledger.config import RiskRuleSettings, RiskSettings
from payledger.domain.risk import Thresholds
from payledger.domain.risk_rules import RuleLimits
from payledger.flows.ports.risk import RiskScorer, RiskTrainer


def rule_limits(rules: RiskRuleSettings) -> RuleLimits:
    """The domain's limits from ``[risk.rules]``."""
    values = rules.model_dump()
    values["avs_mismatch"] = tuple(values["avs_mismatch"])
    values["csc_mismatch"] = tuple(values["csc_mismatch"])
    return RuleLimits(**values)


def load_scorer(settings: RiskSettings) -> RiskScorer:
    """The scorer for these settings: the rules plus the model in use, if any.

    Never raises for the model: a missing or broken one leaves the rules scoring alone and
    says why in ``model_problem``.
    """
    from payledger.adapters.risk_model.scorer import ScreeningScorer

    return ScreeningScorer(
        rule_limits(settings.rules),
        Thresholds(alert_at=settings.alert_at, review_at=settings.review_at),
        settings.model.directory,
        settings.model.weight,
    )


def load_trainer(settings: RiskSettings) -> RiskTrainer:
    """The trainer that writes new model versions where ``load_scorer`` finds them."""
    from payledger.adapters.risk_model.trainer import ForestTrainer

    return ForestTrainer(rule_limits(settings.rules), settings.model)


def switch_model(settings: RiskSettings, version: str) -> None:
    """Put an earlier (or any stored) version back in use; raises ``ModelProblem`` if it is
    missing or does not load."""
    from payledger.adapters.risk_model.store import switch

    switch(settings.model.directory, version)
