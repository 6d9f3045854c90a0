"""Prometheus metrics of the durable engine, registered on a registry the app owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class EngineMetrics:
    """Counters the worker moves and gauges refreshed from the database on each scrape."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.claimed = Counter(
            "payledger_jobs_claimed", "Jobs claimed by workers", ["kind"], registry=r
        )
        self.completed = Counter("payledger_jobs_completed", "Jobs completed", ["kind"], registry=r)
        self.failed = Counter("payledger_jobs_failed", "Failed job attempts", ["kind"], registry=r)
        self.dead = Counter(
            "payledger_jobs_dead", "Jobs moved to the dead letters", ["kind"], registry=r
        )
        self.lease_expiries = Counter(
            "payledger_job_lease_expiries", "Jobs reclaimed after their lease expired", registry=r
        )
        self.queue_depth = Gauge("payledger_queue_depth", "Jobs per status", ["status"], registry=r)
        self.payments = Counter(
            "payledger_payments_processed",
            "Payment events processed, by kind and outcome (declines included)",
            ["kind", "outcome"],
            registry=r,
        )
        self.postings = Counter(
            "payledger_postings_settled", "Ledger writes settled, by result", ["result"], registry=r
        )
        self.ledger_requests = Counter(
            "payledger_ledger_write_requests", "Write requests sent to the ledger", registry=r
        )
        self.oldest_unprocessed_event_seconds = Gauge(
            "payledger_oldest_unprocessed_event_seconds",
            "Age of the oldest inbox event not yet turned into postings (e.g. a refund waiting"
            " for its sale); alert when it grows",
            registry=r,
        )
        self.oldest_pending_seconds = Gauge(
            "payledger_oldest_pending_seconds", "Age of the oldest runnable job", registry=r
        )
