"""What a job is: the unit of durable background work."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from payledger.domain.errors import DomainError


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue.

    ``dedupe_key`` makes enqueueing idempotent: a second job with the same key is ignored, for
    ever. Jobs sharing an ``ordering_key`` never run at the same time and run in enqueue order.
    """

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    ordering_key: str | None = None
    run_at: datetime | None = None
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        require_json(self.payload, f"payload of job {self.kind!r}")


@dataclass(frozen=True)
class Job:
    """A claimed job, as a handler sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    dedupe_key: str | None = None
    ordering_key: str | None = None
    trace_context: str | None = None
    """W3C ``traceparent`` of the span that enqueued the job: its run continues that trace."""


def require_json(document: Any, what: str) -> None:
    """Raise :class:`DomainError` unless ``document`` is a JSON object (so it stores as is)."""
    if not isinstance(document, Mapping):
        raise DomainError(f"{what} must be a JSON object, got {type(document).__name__}")
    try:
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DomainError(f"{what} is not JSON: {exc}") from None


Handler = Callable[[Job], Awaitable[None]]
"""Does a job's work; raising means the attempt failed. Must be idempotent: a job whose
worker died mid-way runs again."""

BatchHandler = Callable[[Sequence[Job]], Awaitable[Mapping[int, BaseException | None]]]
"""Does the work of many claimed jobs of one kind at once (sharing reads and one commit) and
says, per job id, how its attempt ended (an exception, or None when done). Raising fails every
job of the batch. Idempotent like :data:`Handler`."""


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended, as reported to :meth:`Queue.settle`."""

    job: Job
    error: BaseException | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None
