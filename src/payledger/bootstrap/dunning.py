"""Wiring of dunning: the retry job and its schedule, the policy from ``[dunning]``, and the
ports billing, auto-pay and the payments API report missed charges through.

The customer notices are an outbox (:func:`outbox_notices`; sending and the card-update page
are wired in ``bootstrap.dunning_notices``). D365's collections are
:class:`~payledger.adapters.d365.collections.D365Collections` (:class:`LogOnlyCollections` when
``[dunning.collections] enabled`` is false).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from urllib.parse import urlsplit

import structlog

from payledger.adapters.d365.collections import D365Collections
from payledger.adapters.d365.free_text_invoices import D365SubscriptionMirror
from payledger.bootstrap.container import Container
from payledger.bootstrap.payments import charge_ports
from payledger.bootstrap.risk import item_screen
from payledger.config import Settings
from payledger.domain.dunning import (
    CollectionsStage,
    DeclineClass,
    DeclineTable,
    DunningCase,
)
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.dunning import (
    CaseOpener,
    DunningParts,
    DunningPolicy,
    DunningPorts,
    RetryDue,
    SubscriptionDunning,
    retry_due,
)
from payledger.flows.notices import OutboxNotices
from payledger.flows.ports import CollectionsErp, SubscriptionMirror
from payledger.stores.dunning import SqlDunning
from payledger.stores.notices import SqlNoticeOutbox
from payledger.stores.subscriptions import SqlSubscriptions

log = structlog.get_logger(__name__)

RETRY_DUNNING = "dunning.retry"
"""The job kind of one retry run (scheduled every ``[dunning] run_every_minutes``)."""


def dunning_enabled(settings: Settings) -> bool:
    return settings.dunning.enabled


def dunning_policy(settings: Settings) -> DunningPolicy:
    s = settings.dunning
    hours, minutes = (int(part) for part in s.retry_at.split(":"))
    return DunningPolicy(
        table=DeclineTable(
            hard=tuple(s.hard_declines),
            soft=tuple(s.soft_declines),
            unknown=DeclineClass(s.unknown_declines),
        ),
        schedule=RetrySchedule(tuple(s.retry_days), time(hours, minutes), s.timezone),
        burst_per_hour=s.burst_alert_per_hour,
    )


class LogOnlyCollections:
    """``CollectionsErp`` when ``[dunning.collections] enabled`` is false: each step is only
    logged."""

    async def advance(self, case: DunningCase, stage: CollectionsStage) -> None:
        log.info("dunning.collections_not_written", case=case.id, stage=stage.value)

    async def undo(self, case: DunningCase) -> None:
        log.info("dunning.collections_not_undone", case=case.id)


def outbox_notices(container: Container) -> OutboxNotices:
    """``DunningNotices``: each notice stored with its card-update link, and a send job."""
    notices = container.settings.dunning.notices
    return OutboxNotices(
        SqlNoticeOutbox(container.database, container.clock, container.queue),
        container.clock,
        link_lifetime=timedelta(days=notices.link_lifetime_days),
        message_domain=urlsplit(notices.public_base_url).hostname or "payledger",
    )


async def dunning_parts(container: Container) -> DunningParts:
    """The customer notices and the ERP's collections actions a case's steps go to."""
    return DunningParts(notices=outbox_notices(container), erp=await collections_erp(container))


async def collections_erp(container: Container) -> CollectionsErp:
    """D365's collections (``[dunning.collections]``), or only a log line when turned off."""
    settings = container.settings.dunning.collections
    if not settings.enabled:
        return LogOnlyCollections()
    return D365Collections(await container.d365_ledger(), settings)


async def subscription_mirror(container: Container) -> SubscriptionMirror:
    """The subscription status field on D365 customers (a recovered one is active again)."""
    return D365SubscriptionMirror(await container.d365_ledger(), container.settings.subscriptions)


async def dunning_ports(
    container: Container, *, mirror: SubscriptionMirror | None = None
) -> DunningPorts:
    """What dunning works with: its store, the parts, the alert centre, and the charge ports
    of ``POST /api/v1/payments`` (built anew for each attempt)."""

    async def charging() -> ChargeContext:
        return await charge_ports(container, screened_by=item_screen(container, RETRY_DUNNING))

    return DunningPorts(
        store=SqlDunning(container.database, container.clock),
        parts=await dunning_parts(container),
        alerts=container.alerts,
        clock=container.clock,
        policy=dunning_policy(container.settings),
        charging=charging,
        subscriptions=SqlSubscriptions(container.database, container.clock),
        mirror=mirror,
    )


async def missed_charges(container: Container) -> CaseOpener | None:
    """Where auto-pay and the payments API report a missed charge (None: dunning is off)."""
    if not dunning_enabled(container.settings):
        return None
    return CaseOpener(await dunning_ports(container))


async def subscription_dunning(
    container: Container, mirror: SubscriptionMirror
) -> SubscriptionDunning | None:
    """Billing's ``Dunning`` port (None: dunning is off)."""
    if not dunning_enabled(container.settings):
        return None
    return SubscriptionDunning(await dunning_ports(container, mirror=mirror))


def retry_command(settings: Settings, *, owner: str) -> RetryDue:
    return RetryDue(max_per_run=settings.dunning.max_per_run, owner=owner)


def retry_dunning_job(
    container: Container,
    *,
    mirror: Callable[[Container], Awaitable[SubscriptionMirror]] = subscription_mirror,
) -> Handler:
    """One retry run per job: every due retry made once."""

    async def retry(job: Job) -> None:
        ports = await dunning_ports(container, mirror=await mirror(container))
        command = retry_command(container.settings, owner=f"job-{job.id}:{os.getpid()}")
        report = await retry_due(command, ports)
        log.info("dunning.retried", outcomes=report.outcomes, stopped=report.stopped or None)

    return retry


def retry_schedule(settings: Settings) -> Schedule:
    """Every ``run_every_minutes`` (below an hour: at minutes divisible by it; from an hour
    on: every whole number of hours)."""
    minutes = settings.dunning.run_every_minutes
    cron = f"*/{minutes} * * * *" if minutes < 60 else f"0 */{minutes // 60} * * *"
    return Schedule(
        name="dunning-retry", cron=cron, job_kind=RETRY_DUNNING, ordering_key="dunning-retry"
    )


async def operator_ports(container: Container) -> DunningPorts:
    """What an operator's retry, stop or mark-paid-elsewhere works with (CLI and console)."""
    return await dunning_ports(container, mirror=await subscription_mirror(container))
