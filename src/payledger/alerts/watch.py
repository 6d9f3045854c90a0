"""Alerts raised the moment a job fails in a way a human must fix: refused credentials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from payledger.alerts.center import AlertCenter
from payledger.alerts.model import Severity
from payledger.domain.errors import AuthError
from payledger.engine.jobs import BatchHandler, Handler, Job

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


def watch_batch_handlers(
    handlers: Mapping[str, BatchHandler], center: AlertCenter
) -> dict[str, BatchHandler]:
    """The same for batch handlers: a job of the batch that met an :class:`AuthError`."""
    return {kind: _watched_batch(handler, center) for kind, handler in handlers.items()}


def _watched_batch(handler: BatchHandler, center: AlertCenter) -> BatchHandler:
    async def run(jobs: Sequence[Job]) -> Mapping[int, BaseException | None]:
        errors = await handler(jobs)
        refused = next(
            ((job, e) for job in jobs if isinstance(e := errors.get(job.id), AuthError)), None
        )
        if refused is not None:
            job, error = refused
            assert isinstance(error, AuthError)
            await _report(center, job, error)
        return errors

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
