"""What screening works with (the ``[risk]`` policy and the ports), and the one way every
screen scores: a scorer that fails lets the payment, charge or refund pass, with an alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import structlog

from payledger.domain.clock import Clock
from payledger.domain.risk import Action, Assessment, Reason, RiskSubject
from payledger.flows.ports.alerts import OperatorAlerts
from payledger.flows.ports.risk import RiskScorer, RiskStore

log = structlog.get_logger(__name__)

MODEL_ALERT = "risk-model"
"""The alert key of a broken scorer or model (one alert, however many events it meets)."""


@dataclass(frozen=True)
class ScreenPolicy:
    """What the ``[risk]`` settings decide for the screen."""

    enforce: bool
    """False: shadow mode (score and record only)."""
    history: timedelta = timedelta(days=90)
    burst_count: int = 10
    burst_window: timedelta = timedelta(seconds=60)
    small_authorization: Decimal = Decimal("2.00")


@dataclass(frozen=True)
class Screen:
    """The ports the screen works with."""

    policy: ScreenPolicy
    scorer: RiskScorer
    store: RiskStore
    alerts: OperatorAlerts
    clock: Clock


async def assess(subject: RiskSubject, screen: Screen) -> Assessment:
    """``subject`` scored on its history; a scorer that raises never stops money moving."""
    since = subject.occurred_at - screen.policy.history
    try:
        return screen.scorer.assess(subject, await screen.store.history(subject, since))
    except Exception as exc:  # a broken scorer never stops a payment, charge or refund
        log.warning("risk.screen_failed", transaction=subject.transaction_id, error=str(exc))
        await screen.alerts.notify(
            MODEL_ALERT,
            "Risk screening failed; payments pass unscreened",
            f"Scoring {subject.transaction_id} failed: {exc}",
            facts={"error": type(exc).__name__},
        )
        failed = Reason("screen_failed", f"not screened: {type(exc).__name__}", 0.0)
        return Assessment(0.0, Action.ALLOW, (failed,))
