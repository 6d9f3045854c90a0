"""Wiring of risk screening: the screen every payment event passes, the review queue, and
the ``risk.train`` job. With ``[risk] mode = "off"`` nothing here is built."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import structlog

from payledger.adapters.risk_model import load_scorer, load_trainer
from payledger.bootstrap.container import Container
from payledger.config import RiskSettings, Settings
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.ports.risk import Decided, ModelInfo, ReleaseJob, RiskScorer, RiskTrainer
from payledger.flows.review_risk import decide_review
from payledger.flows.screen_charge import ItemScreen
from payledger.flows.screening import Screen, ScreenPolicy
from payledger.flows.train_risk import train_risk_model
from payledger.stores.risk import SqlRiskStore
from payledger.stores.risk_reviews import SqlReviewQueue

log = structlog.get_logger(__name__)

TRAIN_RISK = "risk.train"


def risk_enabled(settings: Settings) -> bool:
    return settings.risk.mode != "off"


def screen_policy(settings: RiskSettings) -> ScreenPolicy:
    return ScreenPolicy(
        enforce=settings.mode == "enforce",
        history=timedelta(days=settings.history_days),
        burst_count=settings.burst_count,
        burst_window=timedelta(seconds=settings.burst_seconds),
        small_authorization=settings.small_authorization,
    )


def review_queue(container: Container) -> SqlReviewQueue:
    return SqlReviewQueue(container.queue)


def risk_store(container: Container) -> SqlRiskStore:
    return SqlRiskStore(container.database, review_queue(container))


def scorer(container: Container) -> RiskScorer:
    """The configured scorer (the rules, and the model in use if any)."""
    return load_scorer(container.settings.risk)


def payment_screen(container: Container) -> Callable[[], Screen | None]:
    """The screen of payment events, built on first use (loading the model once); None when
    screening is off."""
    settings = container.settings.risk

    @functools.cache
    def screen() -> Screen | None:
        if not risk_enabled(container.settings):
            return None
        return Screen(
            policy=screen_policy(settings),
            scorer=scorer(container),
            store=risk_store(container),
            alerts=container.alerts,
            clock=container.clock,
        )

    return screen


_SCREENS: dict[int, Callable[[], Screen | None]] = {}
"""Each container's screen, built once (the scorer loads the model)."""


def shared_screen(container: Container) -> Screen | None:
    """The container's screen, shared by its charges and refunds; None when screening is off."""
    key = id(container)
    if key not in _SCREENS:
        _SCREENS[key] = payment_screen(container)
        weakref.finalize(container, _SCREENS.pop, key, None)
    return _SCREENS[key]()


def item_screen(
    container: Container, job_kind: str, payload: Mapping[str, Any] | None = None
) -> ItemScreen | None:
    """What screens payledger's own charges and refunds, held ones made by the job
    ``job_kind`` (``payload``); None when screening is off."""
    screen = shared_screen(container)
    if screen is None:
        return None
    return ItemScreen(screen, review_queue(container), ReleaseJob(job_kind, dict(payload or {})))


async def decide(
    container: Container, item_id: int, *, approve: bool, actor: str, comment: str
) -> Decided:
    """An operator's decision on a held item (the console and the CLI)."""
    return await decide_review(
        item_id,
        approve=approve,
        actor=actor,
        comment=comment,
        queue=review_queue(container),
        alerts=container.alerts,
        clock=container.clock,
    )


async def train(container: Container, trainer: RiskTrainer | None = None) -> ModelInfo:
    """Train a new model version on the stored events (with the configured trainer unless
    ``trainer`` is given)."""
    settings = container.settings.risk
    return await train_risk_model(
        events=risk_store(container),
        trainer=trainer or load_trainer(settings),
        limit=settings.train_events,
    )


def train_risk_job(container: Container) -> Handler:
    async def run(_job: Job) -> None:
        info = await train(container)
        log.info("risk.trained", version=info.version, rows=info.rows)

    return run


def train_schedule(settings: Settings) -> Schedule | None:
    if not settings.risk.train_cron:
        return None
    return Schedule(
        name="risk-train",
        cron=settings.risk.train_cron,
        job_kind=TRAIN_RISK,
        ordering_key=TRAIN_RISK,
    )
