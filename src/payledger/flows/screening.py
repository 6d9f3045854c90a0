"""What screening works with: the ``[risk]`` policy and the ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from payledger.domain.clock import Clock
from payledger.flows.ports.alerts import OperatorAlerts
from payledger.flows.ports.risk import RiskScorer, RiskStore


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
