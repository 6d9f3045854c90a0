"""Wiring of alerts: the alert centre built from ``[alerts]``, its scans and its dispatch."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import timedelta

import structlog

from payledger.adapters.vault import SecretProvider
from payledger.alerts.center import AlertCenter
from payledger.alerts.model import AlertSink
from payledger.alerts.scans import SCAN_ALERTS, Thresholds, run_scans
from payledger.alerts.smtp import SmtpSink
from payledger.alerts.store import AlertStore, Windows
from payledger.alerts.webhook import WebhookSink
from payledger.bootstrap.container import Container
from payledger.config import AlertsSettings, Settings
from payledger.engine.jobs import Handler, Job
from payledger.engine.queue import Queue
from payledger.engine.schedule import Schedule

log = structlog.get_logger(__name__)


def build_alert_center(
    settings: AlertsSettings, queue: Queue, vault: SecretProvider
) -> AlertCenter:
    """The alert centre; its sinks are built on first use, with their secrets from the vault."""
    windows = Windows(
        gather=timedelta(seconds=settings.gather_seconds),
        dedup=timedelta(seconds=settings.dedup_window_seconds),
    )
    sinks: list[AlertSink] | None = None

    async def configured_sinks() -> Sequence[AlertSink]:
        nonlocal sinks
        if sinks is None:
            sinks = [await _sink(name, settings, vault) for name in settings.sinks]
        return sinks

    return AlertCenter(queue, AlertStore(queue.database, windows), configured_sinks)


async def _sink(name: str, settings: AlertsSettings, vault: SecretProvider) -> AlertSink:
    if name == "webhook":
        hook = settings.webhook
        url = (await vault.get(hook.url_secret)).get_secret_value()
        return WebhookSink(url, style=hook.style, timeout=hook.timeout_seconds)
    mail = settings.smtp
    password = (await vault.get(mail.password_secret)).get_secret_value() if mail.username else ""
    return SmtpSink(
        mail.host,
        mail.port,
        sender=mail.sender,
        recipients=mail.recipients,
        security=mail.security,
        username=mail.username,
        password=password,
        timeout=mail.timeout_seconds,
        ssl_context=ssl.create_default_context(cafile=str(mail.ca_file)) if mail.ca_file else None,
    )


def scan_alerts(container: Container) -> Handler:
    """Run the alert scans, then dispatch what is due."""
    center, settings = container.alerts, container.settings.alerts
    thresholds = Thresholds(
        event_wait=timedelta(seconds=settings.event_wait_seconds),
        outage_after_failures=settings.outage_after_failures,
    )

    async def scan(_job: Job) -> None:
        found = await run_scans(center, thresholds)
        if found:
            log.info("alerts.checked", found=[occurrence.key for occurrence in found])
        await center.dispatch()

    return scan


def dispatch_alerts(container: Container) -> Handler:
    center = container.alerts

    async def dispatch(_job: Job) -> None:
        await center.dispatch()

    return dispatch


def scan_schedule(settings: Settings) -> Schedule:
    return Schedule(
        name="alerts-check",
        cron=settings.alerts.check_cron,
        job_kind=SCAN_ALERTS,
        ordering_key=SCAN_ALERTS,
    )
