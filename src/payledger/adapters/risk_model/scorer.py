"""The risk scorer: the rules always, the anomaly model in use when there is a sound one."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from payledger.adapters.risk_model.features import feature_matrix, inputs_for
from payledger.adapters.risk_model.store import ModelProblem, StoredModel, current, load
from payledger.domain.risk import Assessment, Reason, RiskHistory, RiskSubject, Thresholds
from payledger.domain.risk_rules import RuleLimits
from payledger.domain.risk_screen import assess


class ScreeningScorer:
    """Scores by the rules plus the model ``directory``'s ``current`` pointer names.

    Every ``refresh_seconds`` it looks whether the pointer moved (a new training, or an
    operator switching back) and loads that version. A missing or broken model, or a model
    failing on one subject, leaves the rules scoring alone: it never raises for the model.
    """

    def __init__(
        self,
        limits: RuleLimits,
        thresholds: Thresholds,
        directory: Path,
        model_weight: float,
        refresh_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits, self._thresholds = limits, thresholds
        self._directory, self._weight = directory, model_weight
        self._refresh_seconds, self._monotonic = refresh_seconds, monotonic
        self._model: StoredModel | None = None
        self._problem = ""
        self._checked_at = monotonic()
        self.refresh()

    @property
    def model_version(self) -> str:
        return self._model.version if self._model else ""

    @property
    def model_problem(self) -> str:
        return self._problem

    def refresh(self) -> None:
        """Load the version the pointer names, if it is not the one loaded."""
        self._checked_at = self._monotonic()
        try:
            name = current(self._directory)
            if self._model is None or self._model.version != name:
                self._model = load(self._directory, name)
            self._problem = ""
        except ModelProblem as exc:
            self._model, self._problem = None, str(exc)
        except Exception as exc:  # an unforeseen failure must not stop screening either
            self._model, self._problem = None, f"the model could not be loaded: {exc!r}"

    def assess(self, subject: RiskSubject, history: RiskHistory) -> Assessment:
        if self._monotonic() - self._checked_at >= self._refresh_seconds:
            self.refresh()
        model = self._model
        reasons = self._model_reasons(model, subject, history) if model else []
        version = model.version if model else ""
        return assess(subject, history, self._limits, self._thresholds, reasons, version)

    def _model_reasons(
        self, model: StoredModel, subject: RiskSubject, history: RiskHistory
    ) -> list[Reason]:
        try:
            row = feature_matrix(inputs_for(subject, history, self._limits))
            score = float(model.forest.scores(row)[0])
            weight = model.forest.weight(score, self._weight)
            explained = model.forest.explain(row[0]) if weight > 0 else []
        except Exception:  # a model failing on one subject leaves it to the rules
            return []
        if weight <= 0:
            return []
        unusual = ", ".join(f"{n} {v:.2f} (training 1-99%: {q:.2f})" for n, v, q in explained)
        detail = f"anomaly score {score:.3f}, unusual for this merchant: {unusual or 'overall'}"
        return [Reason("model_outlier", detail, weight)]
