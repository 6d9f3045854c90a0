"""Retrain the anomaly model on the merchant's stored events."""

from __future__ import annotations

from payledger.flows.ports.risk import ModelInfo, RiskTrainer, TrainingEvents


async def train_risk_model(
    *, events: TrainingEvents, trainer: RiskTrainer, limit: int
) -> ModelInfo:
    """Train on the latest ``limit`` events; the new model is the one in use from now on.

    Raises:
        DomainError: too few events to train on (the trainer says how many it needs).
    """
    return trainer.train(await events.training_events(limit))
