"""Risk screening: its rules, its model and the thresholds that decide."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from payledger.config.base import Section
from payledger.domain.risk_rules import DEFAULT_WEIGHTS


class RiskRuleSettings(Section):
    """The screening rules' windows and limits (``[risk.rules]``).

    Amounts are in the payment's currency; a rule whose weight is 0 is off. The defaults are
    those of ``payledger.domain.risk_rules.RuleLimits`` (a test keeps them equal).
    """

    velocity_window_minutes: int = Field(60, ge=1)
    """The sliding window of the velocity rules."""
    customer_count: int = Field(5, ge=1)
    """More charge attempts (approved or declined) by one customer in the window fire."""
    customer_amount: Decimal = Field(Decimal("5000"), gt=0)
    """More charged by one customer in the window fires."""
    card_count: int = Field(4, ge=1)
    """More attempts on one card token in the window fire."""
    card_amount: Decimal = Field(Decimal("5000"), gt=0)
    """More charged on one card token in the window fires."""
    zip_count: int = Field(8, ge=1)
    """More attempts from one billing ZIP in the window fire."""
    zip_amount: Decimal = Field(Decimal("10000"), gt=0)
    """More charged from one billing ZIP in the window fires."""
    ip_count: int = Field(6, ge=1)
    """More attempts from one IP address in the window fire."""
    ip_amount: Decimal = Field(Decimal("10000"), gt=0)
    """More charged from one IP address in the window fires."""
    card_testing_window_minutes: int = Field(10, ge=1)
    """The window in which small declines are counted, merchant-wide."""
    card_testing_declines: int = Field(4, ge=1)
    """This many small declines in the window (this attempt included) is card testing."""
    card_testing_amount: Decimal = Field(Decimal("5.00"), gt=0)
    """Attempts up to this amount are small."""
    avs_mismatch: list[str] = Field(default_factory=lambda: ["No Match"])
    """PayTrace ``avs_response`` texts that count as an AVS mismatch."""
    csc_mismatch: list[str] = Field(default_factory=lambda: ["No Match"])
    """PayTrace ``csc_response`` texts that count as a CSC mismatch."""
    mismatch_burst_window_minutes: int = Field(30, ge=1)
    """The window of the AVS/CSC mismatch burst rule."""
    mismatch_burst_count: int = Field(2, ge=2)
    """This many mismatched attempts on one card, customer or IP in the window is a burst."""
    outlier_factor: Decimal = Field(Decimal("8"), gt=1)
    """A charge above this many times the customer's mean (and above their largest) fires."""
    outlier_min_payments: int = Field(5, ge=1)
    """Customers with fewer earlier payments are not judged by their history."""
    refund_factor: Decimal = Field(Decimal("1"), gt=0)
    """A refund above this many times its sale (else the customer's largest payment) fires."""
    refund_late_days: int = Field(60, ge=1)
    """A refund more than this many days after its sale fires."""
    refund_count: int = Field(3, ge=1)
    """A customer with this many earlier refunds fires on the next..."""
    refund_share: Decimal = Field(Decimal("0.5"), ge=0)
    """...if they are at least this share of the customer's payments."""
    new_customer_amount: Decimal = Field(Decimal("2500"), gt=0)
    """A first payment above this fires."""
    duplicate_window_hours: int = Field(72, ge=1)
    """An approved charge of an invoice already charged the same amount within this fires."""
    weights: dict[str, float] = Field(default_factory=dict)
    """Weights (0..1) by reason code over the defaults (docs/risk.md); 0 turns a rule off."""

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown rule codes {unknown}; known: {sorted(DEFAULT_WEIGHTS)}")
        if any(not 0 <= w <= 1 for w in value.values()):
            raise ValueError("rule weights must be between 0 and 1")
        return value


class RiskModelSettings(Section):
    """The anomaly model: training, storage and schedule (``[risk.model]``)."""

    directory: Path = Path("var/risk-models")
    """Where the model versions and the ``current`` pointer are kept."""
    trees: int = Field(100, ge=10, le=1000)
    """Isolation trees in the forest."""
    sample_size: int = Field(256, ge=16, le=4096)
    """Events each tree is grown on."""
    min_events: int = Field(1000, ge=50)
    """Training refuses fewer events than this."""
    weight: float = Field(0.6, ge=0, le=1)
    """The model's largest share of a score (0: the model never counts)."""
    quantile: float = Field(0.995, gt=0.5, lt=1)
    """Events the model finds less unusual than this share of the training events add nothing."""
    keep_versions: int = Field(5, ge=1)
    """Model versions kept on disk (the current one always is)."""


class RiskSettings(Section):
    """Risk screening: every payment and refund scored by rules and an anomaly model."""

    mode: Literal["off", "shadow", "enforce"] = "off"
    """``shadow`` scores and records only; ``enforce`` also alerts and holds for review."""
    alert_at: float = Field(0.5, gt=0, le=1)
    """Scores from here on alert the operators."""
    review_at: float = Field(0.8, gt=0, le=1)
    """Scores from here on hold payledger's own postings, charges and refunds for review."""
    rules: RiskRuleSettings = RiskRuleSettings()
    """The rules (``[risk.rules]``)."""
    model: RiskModelSettings = RiskModelSettings()
    """The anomaly model (``[risk.model]``)."""
    history_days: int = Field(90, ge=1, le=3660)
    """How far back the history a subject is scored against reaches (the longest window
    any rule uses)."""
    burst_count: int = Field(10, ge=2)
    """Declines, or authorizations up to ``small_authorization``, within ``burst_seconds``
    that make an attack alert."""
    burst_seconds: int = Field(60, ge=1, le=86400)
    """The window a burst is counted in."""
    small_authorization: Decimal = Field(Decimal("2.00"), ge=0)
    """Authorizations up to this amount count towards a burst (card testing)."""
    train_cron: str = "30 3 * * *"
    """When ``risk.train`` retrains the model on the stored events (``""``: never)."""
    train_events: int = Field(1_000_000, ge=1)
    """The most recent events a training run reads."""

    @model_validator(mode="after")
    def _alert_before_review(self) -> RiskSettings:
        if self.alert_at > self.review_at:
            raise ValueError("alert_at must not exceed review_at")
        return self
