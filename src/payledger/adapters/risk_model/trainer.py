"""Training: the merchant's history in, a new model version out and put in use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from payledger.adapters.risk_model.features import feature_matrix
from payledger.adapters.risk_model.forest import grow
from payledger.adapters.risk_model.history import inputs_over
from payledger.adapters.risk_model.store import prune, save, switch, versions
from payledger.config import RiskModelSettings
from payledger.domain.errors import DomainError
from payledger.domain.risk import RiskSubject
from payledger.domain.risk_rules import RuleLimits
from payledger.flows.ports.risk import ModelInfo


class ForestTrainer:
    """Grows an isolation forest on the events, saves it as a new version and switches to it."""

    def __init__(
        self,
        limits: RuleLimits,
        settings: RiskModelSettings,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        seed: int = 0,
    ) -> None:
        self._limits, self._settings, self._now, self._seed = limits, settings, now, seed

    @property
    def directory(self) -> Path:
        return self._settings.directory

    def train(self, events: Sequence[RiskSubject]) -> ModelInfo:
        s = self._settings
        if len(events) < s.min_events:
            raise DomainError(
                f"the anomaly model needs at least {s.min_events} events to learn from, "
                f"got {len(events)} ([risk.model] min_events)"
            )
        x = feature_matrix(inputs_over(events, self._limits))
        forest = grow(x, s.trees, s.sample_size, self._seed, s.quantile)
        trained_at = self._now().astimezone(UTC)
        version = self._new_version(trained_at)
        save(s.directory, version, trained_at, len(events), forest)
        switch(s.directory, version)
        prune(s.directory, s.keep_versions)
        return ModelInfo(version=version, trained_at=trained_at, rows=len(events))

    def _new_version(self, trained_at: datetime) -> str:
        taken = set(versions(self.directory))
        while (name := trained_at.strftime("v%Y%m%dT%H%M%S%fZ")) in taken:
            trained_at += timedelta(microseconds=1)
        return name
