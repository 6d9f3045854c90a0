"""The service itself: database, worker, HTTP service, API, webhooks, logs, tracing, alerts."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from payledger.config.base import ORIGIN, Section


class DatabaseSettings(Section):
    """Where payledger keeps its durable state."""

    url: str = "sqlite:///var/payledger.db"
    """SQLAlchemy URL: ``sqlite:///path`` (default, embedded) or ``postgresql://user@host/db``."""
    busy_timeout_ms: int = Field(10_000, ge=0)
    """SQLite only: how long a writer waits for the lock before failing."""
    pool_size: int = Field(10, ge=1)
    """PostgreSQL only: connections kept open per process."""

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return url


class WorkerSettings(Section):
    """How workers claim and run jobs."""

    concurrency: int = Field(16, ge=1)
    """Jobs one worker process runs at once."""
    claim_batch: int = Field(100, ge=1)
    """Jobs claimed per database round trip."""
    lease_seconds: float = Field(30.0, gt=0)
    """How long a claim lasts without renewal; a crashed worker's jobs return after it."""
    poll_interval_seconds: float = Field(0.2, gt=0)
    """Pause between claims when the queue is empty."""
    max_attempts: int = Field(8, ge=1)
    """Retry budget: attempts before a job goes to the dead letters."""
    backoff_base_seconds: float = Field(1.0, gt=0)
    backoff_cap_seconds: float = Field(600.0, gt=0)
    shutdown_grace_seconds: float = Field(30.0, ge=0)
    """On SIGTERM, how long in-flight jobs may finish before their leases are left to expire."""


class ServiceSettings(Section):
    """The HTTP service (``payledger serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(8800, ge=1, le=65535)
    embedded_worker: bool = True
    """Run a worker and the scheduler inside ``serve`` (turn off to scale out)."""
    max_body_bytes: int = Field(1_048_576, ge=1024)
    """Larger request bodies are refused with 413."""
    openapi: bool = True
    """Serve the API description (``/openapi.json``, ``/docs``, ``/redoc``); off hides them."""
    metrics_auth: Literal["open", "token"] = "open"
    """``token``: ``/metrics`` needs an API token with the ``read`` scope."""
    public_origin: str = ""
    """The console's address as browsers see it behind a proxy (``https://host[:port]``):
    console forms sent from it are accepted as well as from the request's own host."""

    @field_validator("public_origin")
    @classmethod
    def _an_origin(cls, value: str) -> str:
        if value and not ORIGIN.match(value):
            raise ValueError("must be http(s)://host[:port] with no path, e.g. https://pay.example")
        return value.rstrip("/")


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    """On stderr: ``auto`` is ``console`` on a terminal and ``json`` anywhere else."""
    file: Path | None = Path("var/log/payledger.log")
    """JSON log file (also scanned by ``payledger scan-pan``); empty string for none."""

    @field_validator("file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class TracingSettings(Section):
    """OpenTelemetry traces: ingest, jobs, flows and every PayTrace and D365 request."""

    enabled: bool = False
    """Trace ``serve`` and ``worker``; off, nothing of the SDK is even imported."""
    exporter: Literal["otlp", "console", "none"] = "otlp"
    """``otlp`` (OTLP/HTTP, needs ``payledger[otlp]``), ``console`` (one JSON span per line on
    stdout) or ``none`` (trace ids in logs and through the queue, spans sent nowhere)."""
    endpoint: str = ""
    """OTLP/HTTP traces URL; empty: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, else the standard
    ``http://localhost:4318/v1/traces``. Headers (API keys) only from the environment."""
    service_name: str = Field("payledger", min_length=1)
    """``service.name`` of every span."""
    sample_ratio: float = Field(1.0, ge=0, le=1)
    """Share of new traces kept; a trace continued from a job keeps its first decision."""

    @field_validator("endpoint")
    @classmethod
    def _a_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL, e.g. http://collector:4318/v1/traces")
        return value

    @model_validator(mode="after")
    def _exporter_installed(self) -> TracingSettings:
        if self.enabled and self.exporter == "otlp" and not _importable(OTLP_EXPORTER):
            raise ValueError(
                'exporter "otlp" needs the OTLP exporter: pip install "payledger[otlp]" '
                '(or choose exporter = "console" or "none")'
            )
        return self


OTLP_EXPORTER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


class ApiSettings(Section):
    """The request/reply API and the D365 business-event receiver."""

    idempotency_ttl_hours: float = Field(24.0, gt=0)
    """How long an ``Idempotency-Key`` and its stored response are kept."""
    idempotency_lease_seconds: float = Field(300.0, gt=0)
    """How long a request holds its key before a retry counts it as dead: taken over when it
    had begun nothing irreversible, else answered ``outcome_unknown``."""
    business_events_secret: str = "d365-business-events-key"  # noqa: S105 - a vault name
    """Name of the vault secret D365's HTTPS endpoint carries (``?key=`` or a header)."""
    auto_pay: bool = True
    """Charge invoices of customers with a card on file and auto-pay on (business events)."""


class WebhookSettings(Section):
    """Signed webhooks (Standard Webhooks): ``POST /webhooks/paytrace`` stores each hint, and
    a ``paytrace.fetch_hinted`` job fetches the transaction it names from PayTrace."""

    paytrace_secrets: list[str] = Field(default_factory=lambda: ["paytrace-webhook-secret"])
    """Vault names of the ``whsec_`` signing secrets accepted; list two while rotating."""
    tolerance_seconds: int = Field(300, ge=1)
    """How far ``webhook-timestamp`` may be from now, either way."""
    replay_window_hours: float = Field(72.0, gt=0)
    """How long a ``webhook-id`` is remembered, so a replayed delivery does nothing."""
    refetch_timeout_seconds: float = Field(10.0, gt=0)
    """How long the fetch job waits for PayTrace (a free slot included) before the attempt
    fails and is retried."""
    refetch_concurrency: int = Field(16, ge=1)
    """Fetches from PayTrace in flight at once per worker process; more hints wait their turn."""
    secret_cache_seconds: float = Field(60.0, ge=0)
    """How long signing secrets read from the vault are reused."""
    retry_after_seconds: int = Field(30, ge=1)
    """``Retry-After`` of a 503 (database unavailable, or no signing secret)."""


class AlertWebhookSettings(Section):
    """A chat webhook for alerts (Slack incoming webhook or Teams workflow)."""

    url_secret: str = "alerts-webhook-url"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the webhook URL (the URL is the credential)."""
    style: Literal["slack", "teams"] = "slack"
    timeout_seconds: float = Field(10.0, gt=0)


class AlertSmtpSettings(Section):
    """An SMTP server for alert e-mails."""

    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_secret: str = "alerts-smtp-password"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the SMTP password (used when ``username`` is set)."""
    sender: str = "payledger@localhost"
    recipients: list[str] = Field(default_factory=list)
    ca_file: Path | None = None
    """Extra CA certificate to trust for the server's TLS certificate (a private CA)."""
    timeout_seconds: float = Field(10.0, gt=0)


class AlertsSettings(Section):
    """What raises an alert, how alerts are deduplicated and where they go."""

    sinks: list[Literal["webhook", "smtp"]] = Field(default_factory=list)
    """Where alerts go besides the log (empty: the log only)."""
    check_cron: str = "* * * * *"
    gather_seconds: float = Field(30.0, ge=0)
    dedup_window_seconds: float = Field(900.0, ge=0)
    event_wait_seconds: float = Field(900.0, gt=0)
    outage_after_failures: int = Field(5, ge=1)
    webhook: AlertWebhookSettings = AlertWebhookSettings()
    smtp: AlertSmtpSettings = AlertSmtpSettings()

    @model_validator(mode="after")
    def _smtp_has_recipients(self) -> AlertsSettings:
        if "smtp" in self.sinks and not self.smtp.recipients:
            raise ValueError("smtp.recipients must list at least one address when sinks has smtp")
        return self
