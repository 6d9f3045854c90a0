"""The durable engine: inbox, job queue with leases, workers, schedules, idempotency keys."""

from payledger.engine.inbox import Inbox, InboxReceipt
from payledger.engine.jobs import BatchHandler, Handler, Job, JobStatus, NewJob
from payledger.engine.queue import Queue
from payledger.engine.schedule import Schedule, Scheduler
from payledger.engine.worker import Worker, WorkerOptions

__all__ = [
    "BatchHandler",
    "Handler",
    "Inbox",
    "InboxReceipt",
    "Job",
    "JobStatus",
    "NewJob",
    "Queue",
    "Schedule",
    "Scheduler",
    "Worker",
    "WorkerOptions",
]
