"""Every rule on one subject, and the assessment they make with the model's reasons."""

from __future__ import annotations

from collections.abc import Sequence

from payledger.domain.risk import Assessment, Reason, RiskHistory, RiskSubject, Thresholds, decide
from payledger.domain.risk_refunds import (
    refund_frequent,
    refund_larger,
    refund_late,
    refund_other_card,
)
from payledger.domain.risk_rules import (
    Rule,
    RuleLimits,
    amount_outlier,
    avs_csc,
    card_testing,
    combine,
    duplicate_charge,
    new_customer_large,
    velocity,
)

RULES: tuple[Rule, ...] = (
    velocity,
    card_testing,
    avs_csc,
    amount_outlier,
    new_customer_large,
    duplicate_charge,
    refund_larger,
    refund_late,
    refund_other_card,
    refund_frequent,
)


def evaluate(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """The reasons of every rule that fires, strongest first."""
    reasons = [reason for rule in RULES for reason in rule(subject, history, limits)]
    return sorted(reasons, key=lambda r: -r.weight)


def assess(
    subject: RiskSubject,
    history: RiskHistory,
    limits: RuleLimits,
    thresholds: Thresholds,
    model_reasons: Sequence[Reason] = (),
    model_version: str = "",
) -> Assessment:
    """The rules' reasons and the model's, combined by noisy-or and decided by thresholds."""
    reasons = sorted([*evaluate(subject, history, limits), *model_reasons], key=lambda r: -r.weight)
    score = combine(r.weight for r in reasons)
    return Assessment(
        score=score,
        action=decide(score, thresholds),
        reasons=tuple(reasons),
        model_version=model_version,
    )
