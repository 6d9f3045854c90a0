"""Alerts raised the moment a job fails in a way a human must fix: refused credentials."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from payledger.alerts.center import AlertCenter
from payledger.alerts.model import Severity
from payledger.domain.errors import AuthError
from payledger.engine.jobs import Handler, Job

log = structlog.get_logger(__name__)

SYSTEM_NAMES = {"paytrace": "PayTrace", "d365": "D365"}


def watch_handlers(handlers: Mapping[str, Handler], center: AlertCenter) -> dict[str, Handler]:
    """The same handlers, reporting an ``auth:<system>`` alert whenever one meets an
    :class:`AuthError` (the job then fails as before)."""
    return {kind: _watched(handler, center) for kind, handler in handlers.items()}


def _watched(handler: Handler, center: AlertCenter) -> Handler:
    async def run(job: Job) -> None:
        try:
            await handler(job)
        except AuthError as exc:
            await _report(center, job, exc)
            raise

    return run


async def _report(center: AlertCenter, job: Job, error: AuthError) -> None:
    system = error.system or "unknown"
    name = SYSTEM_NAMES.get(system, system)
    try:
        await center.notify(
            f"auth:{system}",
            f"{name} refused payledger's credentials",
            f"{error}\nCheck the credentials (`payledger secrets set ...`), then "
            "`payledger replay --error AuthError`.",
            severity=Severity.CRITICAL,
            facts={"system": name, "operation": error.operation or "-", "job": job.kind},
        )
    except Exception as exc:  # the job's own failure matters more than the alert's
        log.warning("alert.not_recorded", key=f"auth:{system}", error=str(exc))
