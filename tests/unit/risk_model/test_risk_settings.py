"""``[risk.rules]`` and ``[risk.model]``: the domain's defaults, and bad values refused."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from pydantic import ValidationError

from payledger.adapters.risk_model import rule_limits
from payledger.config import RiskRuleSettings, RiskSettings
from payledger.domain.risk_rules import RuleLimits


def test_the_settings_defaults_are_the_rules_defaults():
    assert asdict(rule_limits(RiskRuleSettings())) == asdict(RuleLimits())


def test_settings_reach_the_rules():
    limits = rule_limits(RiskRuleSettings(card_count=9, weights={"velocity_card": 0.2}))
    assert limits.card_count == 9 and limits.weight("velocity_card") == 0.2
    assert limits.weight("velocity_ip") == 0.6


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"weights": {"velocity_cardd": 0.5}}, "unknown rule codes ['velocity_cardd']"),
        ({"weights": {"card_testing": 1.5}}, "between 0 and 1"),
        ({"card_count": 0}, "greater than or equal to 1"),
        ({"velocity_windw_minutes": 5}, "Extra inputs are not permitted"),
    ],
)
def test_bad_rule_settings_are_refused_with_what_is_wrong(rules, message):
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RiskSettings.model_validate({"rules": rules})


def test_bad_model_settings_are_refused():
    with pytest.raises(ValidationError, match="quantile"):
        RiskSettings.model_validate({"model": {"quantile": 1.0}})
