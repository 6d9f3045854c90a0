"""When a job's failure is its last: the handlers that park their work then ask here."""

from __future__ import annotations

from payledger.domain.errors import PayLedgerError
from payledger.engine.jobs import Job


def is_last_attempt(job: Job, error: Exception) -> bool:
    """Whether the worker dead-letters ``job`` after this failure (as ``Queue.settle`` decides:
    a non-retryable error, or the retry budget spent)."""
    permanent = isinstance(error, PayLedgerError) and not error.retryable
    return permanent or job.attempts >= job.max_attempts
