"""Configuration: one TOML file plus ``PAYLEDGER_<SECTION>__<KEY>`` environment overrides.

The file is ``--config``, else ``$PAYLEDGER_CONFIG``, else ``./payledger.toml`` when present;
without any file the defaults below run the embedded SQLite mode. Every key is documented in
``docs/configuration.md``. A wrong or unknown key stops start-up with a message naming it.
``PAYLEDGER_<SECTION>__<KEY>_FILE=/path`` gives a key the text of a file instead (Docker and
systemd secrets).
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from payledger.domain.errors import ConfigError
from payledger.domain.risk_rules import DEFAULT_WEIGHTS

ENV_PREFIX = "PAYLEDGER_"
FILE_SUFFIX = "_FILE"
DEFAULT_CONFIG_FILE = Path("payledger.toml")
# Environment variables that share the prefix but are not configuration keys.
_NON_SETTING_ENV = {"PAYLEDGER_CONFIG", "PAYLEDGER_MASTER_KEY"}
_ORIGIN = re.compile(r"^https?://[^/?#@\s]+/?$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
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


class WorkerSettings(_Section):
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


class ServiceSettings(_Section):
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
        if value and not _ORIGIN.match(value):
            raise ValueError("must be http(s)://host[:port] with no path, e.g. https://pay.example")
        return value.rstrip("/")


class AzureKeyVaultSettings(_Section):
    """Azure Key Vault, read with the Entra app of ``[d365]`` (or the tenant and client here)."""

    vault_url: str = ""
    """The vault's URL, e.g. ``https://contoso-payledger.vault.azure.net``."""
    tenant: str = ""
    """Entra tenant; empty: ``[d365] tenant``."""
    client_id: str = ""
    """Entra app; empty: ``[d365] client_id``."""
    client_secret_file: Path | None = None
    """File holding the app's client secret (else ``AZURE_CLIENT_SECRET``); never the TOML."""
    certificate_file: Path | None = None
    """PEM file with the app's certificate and private key, instead of a client secret."""
    resource: str = "https://vault.azure.net"
    """Token audience; the scope asked for is ``<resource>/.default``."""
    timeout_seconds: float = Field(30.0, ge=1)
    max_attempts: int = Field(4, ge=1)
    """Tries per call when Key Vault throttles (429) or fails (5xx)."""

    @field_validator("vault_url")
    @classmethod
    def _an_origin(cls, value: str) -> str:
        if value and not _ORIGIN.match(value):
            raise ValueError("must be https://NAME.vault.azure.net with no path")
        return value.rstrip("/")


class HashiCorpVaultSettings(_Section):
    """HashiCorp Vault, KV version 2 secrets engine, token auth."""

    url: str = "http://127.0.0.1:8200"
    """Vault's address (``VAULT_ADDR``)."""
    token_file: Path | None = None
    """File holding the Vault token; empty: the ``VAULT_TOKEN`` environment variable."""
    mount_point: str = "secret"
    """Where the KV v2 engine is mounted."""
    path_prefix: str = "payledger"
    """Secrets live at ``<mount_point>/data/<path_prefix>/<name>``."""
    namespace: str = ""
    """Vault Enterprise namespace (``X-Vault-Namespace``); empty for none."""
    ca_file: Path | None = None
    """Extra CA certificate to trust for Vault's TLS."""
    timeout_seconds: float = Field(30.0, ge=1)
    max_attempts: int = Field(4, ge=1)
    """Tries per call when Vault is sealed, in standby or failing (5xx) or throttles (429)."""

    @field_validator("mount_point", "path_prefix")
    @classmethod
    def _a_path(cls, value: str) -> str:
        return value.strip("/")


class VaultSettings(_Section):
    """Where secrets live: payledger's own encrypted table, Azure Key Vault or HashiCorp Vault."""

    provider: Literal["database", "azure_key_vault", "hashicorp_vault"] = "database"
    key_file: Path = Path("var/master.key")
    """Master key file, created (mode 0600) on first use unless ``PAYLEDGER_MASTER_KEY`` is set."""
    cache_seconds: float = Field(300.0, ge=0)
    """External providers: how long a value read is reused; a rotated one is used after it."""
    azure_key_vault: AzureKeyVaultSettings = AzureKeyVaultSettings()
    hashicorp_vault: HashiCorpVaultSettings = HashiCorpVaultSettings()

    @model_validator(mode="after")
    def _provider_configured(self) -> VaultSettings:
        if self.provider == "azure_key_vault" and not self.azure_key_vault.vault_url:
            raise ValueError("provider azure_key_vault needs [vault.azure_key_vault] vault_url")
        return self


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    """On stderr: ``auto`` is ``console`` on a terminal and ``json`` anywhere else."""
    file: Path | None = Path("var/log/payledger.log")
    """JSON log file (also scanned by ``payledger scan-pan``); empty string for none."""

    @field_validator("file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class TracingSettings(_Section):
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


class PayTraceSettings(_Section):
    """The PayTrace merchant account (API v1)."""

    enabled: bool = False
    """Poll PayTrace for payments on ``poll_cron`` (the primary event source)."""
    base_url: str = "https://api.paytrace.com"
    username: str = ""
    password_secret: str = "paytrace-password"  # noqa: S105 - a vault name, not a password
    """Name of the vault secret holding the API password."""
    integrator_id: str = ""
    timeout_seconds: float = Field(60.0, ge=1)
    timezone: str = "America/Los_Angeles"
    """Zone of PayTrace's local date texts."""
    currency: str = "USD"
    correlation_field: str = ""
    """Discretionary-data title that receives payledger's reference on every charge."""
    poll_cron: str = "* * * * *"
    poll_overlap_minutes: float = Field(30.0, ge=0)
    first_poll_lookback_hours: float = Field(24.0, gt=0)
    discretionary_titles: list[str] = Field(default_factory=lambda: ["D365 Order", "D365 Customer"])
    """Discretionary-data titles configured on the merchant account (PayTrace allows 6)."""
    order_title: str = "D365 Order"
    """The discretionary title that carries the D365 sales order number."""
    customer_title: str = "D365 Customer"
    """The discretionary title that carries the D365 customer account."""
    recurring_through: str = "Recurring"
    """UNCERTAIN: the export's ``created.through`` of the charges PayTrace's own recurring
    schedules make; they are posted as recurring charges and pay the periods of subscriptions
    imported from those schedules (``""``: none is recognised)."""
    check_export_path: str = "/v1/transactions/export/by_date_range"
    """Where check (ACH) transactions are exported (UNCERTAIN: none is documented); the
    default reads them from the transaction export, ``""`` does not look for them."""


class D365Fields(_Section):
    """Names of the D365 extension (custom) fields payledger reads and writes."""

    customer_paytrace_id: str = "PayTraceCustomerId"
    customer_sync: str = "PayTraceSync"
    """NoYes field on customers: Yes keeps the customer in step with a PayTrace profile."""
    order_payment_status: str = "PaymentStatus"
    order_payment_auth_id: str = "PaymentAuthId"
    order_payment_amount: str = "PaymentAmount"
    order_payment_message: str = "PaymentMessage"
    """Human-readable reason of the last decline."""
    customer_auto_pay: str = "PayTraceAutoPay"
    """NoYes field on customers: charge their card on file when an invoice is posted."""


class D365EntitySetNames(_Section):
    """Entity set names, for environments that expose newer versions."""

    customers: str = "CustomersV3"
    sales_orders: str = "SalesOrderHeadersV2"
    sales_order_lines: str = "SalesOrderLines"
    invoices: str = "SalesInvoiceHeadersV2"
    payment_journal_headers: str = "CustomerPaymentJournalHeaders"
    payment_journal_lines: str = "CustomerPaymentJournalLines"
    ledger_journal_headers: str = "LedgerJournalHeaders"
    ledger_journal_lines: str = "LedgerJournalLines"
    customer_transactions: str = "CustTransactions"
    """UNCERTAIN (not a standard entity): customer transactions with ``Invoice``,
    ``AmountCur`` and ``SettleAmountCur``, read back after payledger posts a journal (only
    needed when ``[posting] post`` is not ``never``)."""
    free_text_invoice_headers: str = "FreeTextInvoiceHeaders"
    """Writable free-text invoices (subscriptions bill through them); writability UNCERTAIN."""
    free_text_invoice_lines: str = "FreeTextInvoiceLines"


class D365SetupEntitySetNames(_Section):
    """Entity sets of the F&O setup that ``payledger doctor`` reads to verify ``[d365]`` values.

    payledger never writes them. An environment that does not expose one is no error: the
    doctor then looks for the value where it is in use instead.
    """

    legal_entities: str = "LegalEntities"
    """Where ``company`` is defined (``LegalEntityId``)."""
    journal_names: str = "JournalNames"
    """Where ``payment_journal_name`` and ``general_journal_name`` are defined."""
    payment_methods: str = "CustomerPaymentMethods"
    """Customer methods of payment: ``payment_method``, and the journal names and accounts
    they use."""
    bank_accounts: str = "BankAccounts"
    """Where clearing and deposit accounts of type ``Bank`` are defined."""
    main_accounts: str = "MainAccounts"
    """The chart of accounts: accounts of type ``Ledger`` (not company-scoped)."""
    customer_groups: str = "CustomerGroups"
    """Where ``customer_group`` is defined."""


class D365Settings(_Section):
    """The Dynamics 365 Finance & Operations environment and legal entity."""

    enabled: bool = False
    base_url: str = "https://contoso.operations.dynamics.com"
    """The environment URL (also the token resource unless ``resource`` is set)."""
    auth: Literal["entra", "entra_certificate", "adfs"] = "entra"
    """``entra``: Entra ID with the client secret; ``entra_certificate``: Entra ID with the
    certificate and private key; ``adfs``: AD FS (on-premises) with the client secret."""
    tenant: str = ""
    client_id: str = ""
    client_secret_secret: str = "d365-client-secret"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the app's client secret."""
    certificate_secret: str = "d365-certificate"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the app's certificate (PEM), for ``entra_certificate``."""
    private_key_secret: str = "d365-private-key"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the certificate's private key (PEM, unencrypted)."""
    authority_host: str = "https://login.microsoftonline.com"
    adfs_url: str = ""
    """AD FS root for on-premises environments, e.g. ``https://adfs.contoso.com/adfs``."""
    resource: str = ""
    ca_file: Path | None = None
    """Extra CA certificate to trust (the sandbox's self-signed certificate)."""
    timeout_seconds: float = Field(60.0, ge=1)
    company: str = "usmf"
    timezone: str = "America/Los_Angeles"
    """The zone whose calendar day is a payment's business day (and journal)."""
    payment_journal_name: str = "CustPay"
    general_journal_name: str = "GenJrn"
    payment_method: str = "ELECTRONIC"
    ach_payment_method: str = ""
    """Method of payment of ACH (check) lines; empty: ``payment_method``."""
    clearing_account_type: Literal["Bank", "Ledger"] = "Bank"
    clearing_account: str = "USMF OPER"
    deposit_account_type: Literal["Bank", "Ledger"] = "Bank"
    deposit_account: str = "USMF EUR"
    fee_account: str = ""
    summary_customer_account: str = ""
    customer_group: str = "30"
    fallback_customer_account: str = ""
    """Customer account for payments no rule resolves; empty parks them instead."""
    fields: D365Fields = D365Fields()
    entity_sets: D365EntitySetNames = D365EntitySetNames()
    setup_entity_sets: D365SetupEntitySetNames = D365SetupEntitySetNames()
    string_lengths: dict[str, int] = Field(default_factory=dict)
    """``"Entity.Field" = n``: F&O's $metadata has no string lengths; give the ones that matter."""

    @field_validator("company")
    @classmethod
    def _lower_case(cls, company: str) -> str:
        return company.lower()


class PostingSettings(_Section):
    """How owed postings reach D365: coalesced into $batch changesets (micro-batching)."""

    max_lines: int = Field(100, ge=1, le=1000)
    """Most lines in one changeset (one request)."""
    max_wait_ms: int = Field(500, ge=0)
    """Longest a payment waits for others to share its request."""
    parallel_requests: int = Field(8, ge=1)
    """Requests one flush keeps in flight (the connector's adaptive limit still applies)."""
    pipeline_seconds: float = Field(300.0, ge=0)
    """How long one flush goes on taking newly owed lines, a round every ``max_wait_ms``,
    while its earlier requests are still out; 0: one round per flush."""
    lookup_ttl_seconds: float = Field(300.0, ge=0)
    """How long customer and order lookups are reused."""
    mode: Literal["live", "shadow"] = "live"
    """``shadow``: read PayTrace and D365 as in production but write nothing to D365; the
    would-be writes are kept for ``payledger shadow report``."""
    post: Literal["never", "when_balanced", "after_review"] = "never"
    """Whether payledger posts its payment journals in D365: ``never`` (someone posts them in
    F&O), ``when_balanced`` (once closed to new lines and balanced), or ``after_review`` (once
    an operator approves, in the console or with ``payledger journals post ID``)."""
    close_after_minutes: float = Field(60.0, ge=0)
    """A day's journal takes no new lines once its business day has been over this long; the
    day's later lines go to a new journal."""
    unposted_alert_hours: float = Field(36.0, gt=0)
    """A journal still unposted this long after it was opened raises an alert (every mode)."""
    granularity: Literal["per_payment", "daily_summary"] = "per_payment"
    """``per_payment``: one journal line per payment; ``daily_summary``: one line per
    settlement batch and payment method (and one fee line), the detail kept in payledger."""
    service_group: str = "PayledgerServices"
    """UNCERTAIN: the D365 custom service that posts a journal is
    ``/api/services/<service_group>/<service>/<operation>``; F&O has no standard one, so the
    names are whatever the deployed extension registers."""
    service: str = "PayledgerJournalService"
    operation: str = "postJournal"


class ApiSettings(_Section):
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


class SyncSettings(_Section):
    """Customer and token sync: D365 customers flagged for sync ⇄ PayTrace customer profiles."""

    customers_enabled: bool = False
    """Run ``sync customers`` on ``customers_cron`` (needs ``[paytrace]`` and ``[d365]``)."""
    customers_cron: str = "*/15 * * * *"
    conflict_policy: Literal["d365", "paytrace"] = "d365"
    """Whose value stays when both sides hold different values for a field."""
    create_d365_customers: bool = True
    """A PayTrace profile linked to no D365 customer gets one (flagged for sync)."""
    blocked_statuses: list[str] = Field(default_factory=lambda: ["Invoice", "All", "Payment"])
    """``OnHoldStatus`` values that count as blocked: auto-pay is turned off."""


class OrderSettings(_Section):
    """Shop orders (``POST /api/v1/orders``): charge, then create the order in D365."""

    transaction: Literal["sale", "authorization"] = "sale"
    """What the card is charged with: a sale, or an authorization captured at fulfilment."""
    on_decline: Literal["nothing", "hold"] = "nothing"
    """``hold``: a declined order is still created in D365, with payment status Declined."""
    d365_timeout_seconds: float = Field(10.0, gt=0)
    """How long the request waits for D365 before answering 202 and finishing in the queue."""


class WebhookSettings(_Section):
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


class MappingSettings(_Section):
    """Where templates come from."""

    templates_dir: Path | None = None
    """A folder of YAML templates; one named like a default template replaces it."""
    versions_check_seconds: float = Field(2.0, ge=0)
    """How long a process keeps its templates before checking for a new activation."""


class AlertWebhookSettings(_Section):
    """A chat webhook for alerts (Slack incoming webhook or Teams workflow)."""

    url_secret: str = "alerts-webhook-url"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the webhook URL (the URL is the credential)."""
    style: Literal["slack", "teams"] = "slack"
    timeout_seconds: float = Field(10.0, gt=0)


class AlertSmtpSettings(_Section):
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


class AlertsSettings(_Section):
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


class FeeRuleSettings(_Section):
    """An expected gateway fee: ``percent`` of the amount plus ``fixed`` (in major units)."""

    percent: Decimal = Field(Decimal(0), ge=0, le=100)
    fixed: Decimal = Field(Decimal(0), ge=0)


class SubscriptionSettings(_Section):
    """Recurring billing: payledger's subscriptions, invoiced in D365 and charged in PayTrace."""

    enabled: bool = False
    """Run the billing job (needs [paytrace] and [d365])."""
    run_every_minutes: int = Field(5, ge=1, le=1440)
    """How often the billing job looks for what is due."""
    catch_up: Literal["all", "latest"] = "all"
    """Periods missed while payledger was down: bill ``all`` of them once each, or only the
    ``latest`` (the others are recorded as skipped)."""
    timezone: str = "America/Los_Angeles"
    """The calendar periods are counted in (a period is due at local midnight of its day)."""
    invoice_operation: str = "postFreeTextInvoice"
    """UNCERTAIN: the operation of the ``[posting]`` custom service that posts a free-text
    invoice (F&O has no standard OData action for it)."""
    invoice_key_field: str = "CustomerReference"
    """Free-text invoice header field holding payledger's key for the period, so a draft
    created before a crash is found again instead of created twice."""
    revenue_account: str = "401100"
    """Main account of an invoice line when the plan names no item or account."""
    status_field: str = "PayTraceSubscriptionStatus"
    """Customer extension field mirroring the subscription status ("" to not mirror)."""
    max_per_run: int = Field(500, ge=1)
    """Periods one billing job takes; the rest wait for the next run."""


DEFAULT_SOFT_DECLINES = [
    "insufficient funds",
    "not sufficient funds",
    "do not honou?r",
    "issuer (is )?(unavailable|not available|inoperative)",
    "try again",
    "exceeds",
    "limit exceeded",
    "refer to (card )?issuer",
    "call issuer",
    "processing error",
    "system (error|malfunction)",
]
DEFAULT_HARD_DECLINES = [
    "stolen",
    "lost",
    "pick ?up",
    "invalid account",
    "invalid card",
    "no such (account|card|issuer)",
    "closed",
    "expired",
    "restricted",
    "fraud",
    "revo(ked|cation)",
    "do not try again",
    "security violation",
    "not permitted",
]


class DunningCollectionsSettings(_Section):
    """``[dunning.collections]``: what D365 is told as a case advances, all undone on recovery.

    UNCERTAIN (docs/configuration.md): the notes entity and its fields; F&O documents no OData
    entity for collections notes, so these name the one the environment exposes.
    """

    enabled: bool = True
    """Write the collections status, notes and hold in D365 (false: only log)."""
    status_field: str = "PayTraceCollectionStatus"
    """Customer extension field holding the case's stage ("" to not write one)."""
    past_due_value: str = "PastDue"
    """``status_field`` once a case is opened."""
    final_attempt_failed_value: str = "FinalAttemptFailed"
    """``status_field`` once the last retry was declined."""
    hold_field: str = "OnHoldStatus"
    """Customer field put on hold after the last retry ("" to never put anyone on hold)."""
    hold_value: str = "Invoice"
    """Enum ``CustVendorBlocked`` value payledger sets (``All`` would also block payments)."""
    released_value: str = "No"
    """The ``hold_field`` value of a customer not on hold: only such a customer is put on hold."""
    notes_entity: str = "CustomerCollectionsNotes"
    """UNCERTAIN: the entity set of collections notes (it also records what payledger changed)."""
    note_customer_field: str = "CustomerAccount"
    note_reference_field: str = "Reference"
    """UNCERTAIN: a text field of the note holding payledger's key (``payledger:dunning:...``)."""
    note_subject_field: str = "Subject"
    note_text_field: str = "Note"
    note_time_field: str = "NoteDateTime"
    """UNCERTAIN: the note's date and time ("" to let D365 fill it)."""

    @model_validator(mode="after")
    def _distinct_values(self) -> DunningCollectionsSettings:
        if self.hold_field and self.hold_value == self.released_value:
            raise ValueError("hold_value and released_value must differ")
        if self.past_due_value == self.final_attempt_failed_value:
            raise ValueError("past_due_value and final_attempt_failed_value must differ")
        return self


class DunningNoticeSettings(_Section):
    """Customer notices of dunning (e-mails through the ``[alerts.smtp]`` server) and the
    card-update page their links open."""

    sender: str = "billing@localhost"
    """``From`` of every notice."""
    reply_to: str = ""
    """``Reply-To`` of every notice ("" : none)."""
    merchant_name: str = ""
    """Shown in the e-mails and on the card-update page ("" : ``[d365] company``)."""
    public_base_url: str = "http://localhost:8080"
    """Where customers reach ``payledger serve``: links are ``<this>/pay/<token>``."""
    link_lifetime_days: int = Field(14, ge=1, le=90)
    """How long a card-update link works."""
    language: str = "en"
    """Language of a customer whose ERP record names none (or one without templates)."""
    templates_dir: Path | None = None
    """A folder laid out like the built-in templates (``<language>/<notice>.subject.txt``,
    ``.txt``, ``.html``); a file there replaces the built-in one of the same name."""
    max_per_run: int = Field(50, ge=1)
    """Notices one send job takes; the rest wait for the next run."""
    max_card_posts: int = Field(5, ge=1, le=50)
    """Card submissions one link accepts (refused cards included) before it is closed."""
    protect_script_url: str = "https://protect.paytrace.com/js/protect.min.js"
    """PayTrace Protect.js, loaded by the card-update page (its origin is allowed to frame
    the card fields)."""

    @field_validator("public_base_url", "protect_script_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.match(r"^https?://[^/?#@\s]+(/[^?#\s]*)?$", value):
            raise ValueError("must be an http(s) address without query or fragment")
        return value.rstrip("/") if not value.endswith(".js") else value

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError("must be a lower-case language code such as en or es")
        return value


class DunningSettings(_Section):
    """Dunning: declined charges of invoices and subscriptions retried, customers told."""

    enabled: bool = False
    """Open cases for missed charges and run the retry job (needs [paytrace] and [d365])."""
    retry_days: list[int] = Field(default_factory=lambda: [1, 3, 5, 7])
    """Days after the first decline on which a soft decline is retried."""
    retry_at: str = "10:00"
    """``HH:MM`` local time (in ``timezone``) of each retry."""
    timezone: str = "America/Los_Angeles"
    """The calendar retry days and ``retry_at`` are counted in."""
    soft_declines: list[str] = Field(default_factory=lambda: list(DEFAULT_SOFT_DECLINES))
    """Patterns of the processor's decline text retried on the schedule."""
    hard_declines: list[str] = Field(default_factory=lambda: list(DEFAULT_HARD_DECLINES))
    """Patterns of declines never retried on the same card (tried before the soft ones)."""
    unknown_declines: Literal["soft", "hard"] = "soft"
    """The class of a decline no pattern matches."""
    burst_alert_per_hour: int = Field(20, ge=0)
    """Alert the operators when more declines than this arrive within an hour (0: never)."""
    run_every_minutes: int = Field(15, ge=1, le=1440)
    """How often the retry job looks for due retries."""
    max_per_run: int = Field(200, ge=1)
    """Retries one job makes; the rest wait for the next run."""
    collections: DunningCollectionsSettings = DunningCollectionsSettings()
    """What D365's collections are told (``[dunning.collections]``)."""
    notices: DunningNoticeSettings = DunningNoticeSettings()

    @field_validator("retry_days")
    @classmethod
    def _increasing_days(cls, value: list[int]) -> list[int]:
        if not value or any(d < 1 for d in value) or value != sorted(set(value)):
            raise ValueError("must list increasing whole days from 1 on, e.g. [1, 3, 5, 7]")
        return value

    @field_validator("retry_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        return _hh_mm(value)

    @field_validator("soft_declines", "hard_declines")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value


def _hh_mm(value: str) -> str:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError("must be a time of day as HH:MM")
    return f"{int(hours):02d}:{int(minutes):02d}"


class RiskRuleSettings(_Section):
    """The screening rules' windows and limits (``[risk.rules]``).

    Amounts are in the payment's currency; a rule whose weight is 0 is off. The defaults are
    those of ``payledger.domain.risk_rules.RuleLimits`` (a test keeps them equal).
    """

    velocity_window_minutes: int = Field(60, ge=1)
    """The sliding window of the velocity rules."""
    customer_count: int = Field(5, ge=1)
    """More charge attempts (approved or declined) by one customer in the window fire."""
    customer_amount: Decimal = Field(Decimal("5000"), gt=0)
    """More charged by one customer in the window fires."""
    card_count: int = Field(4, ge=1)
    """More attempts on one card token in the window fire."""
    card_amount: Decimal = Field(Decimal("5000"), gt=0)
    """More charged on one card token in the window fires."""
    zip_count: int = Field(8, ge=1)
    """More attempts from one billing ZIP in the window fire."""
    zip_amount: Decimal = Field(Decimal("10000"), gt=0)
    """More charged from one billing ZIP in the window fires."""
    ip_count: int = Field(6, ge=1)
    """More attempts from one IP address in the window fire."""
    ip_amount: Decimal = Field(Decimal("10000"), gt=0)
    """More charged from one IP address in the window fires."""
    card_testing_window_minutes: int = Field(10, ge=1)
    """The window in which small declines are counted, merchant-wide."""
    card_testing_declines: int = Field(4, ge=1)
    """This many small declines in the window (this attempt included) is card testing."""
    card_testing_amount: Decimal = Field(Decimal("5.00"), gt=0)
    """Attempts up to this amount are small."""
    avs_mismatch: list[str] = Field(default_factory=lambda: ["No Match"])
    """PayTrace ``avs_response`` texts that count as an AVS mismatch."""
    csc_mismatch: list[str] = Field(default_factory=lambda: ["No Match"])
    """PayTrace ``csc_response`` texts that count as a CSC mismatch."""
    mismatch_burst_window_minutes: int = Field(30, ge=1)
    """The window of the AVS/CSC mismatch burst rule."""
    mismatch_burst_count: int = Field(2, ge=2)
    """This many mismatched attempts on one card, customer or IP in the window is a burst."""
    outlier_factor: Decimal = Field(Decimal("8"), gt=1)
    """A charge above this many times the customer's mean (and above their largest) fires."""
    outlier_min_payments: int = Field(5, ge=1)
    """Customers with fewer earlier payments are not judged by their history."""
    refund_factor: Decimal = Field(Decimal("1"), gt=0)
    """A refund above this many times its sale (else the customer's largest payment) fires."""
    refund_late_days: int = Field(60, ge=1)
    """A refund more than this many days after its sale fires."""
    refund_count: int = Field(3, ge=1)
    """A customer with this many earlier refunds fires on the next..."""
    refund_share: Decimal = Field(Decimal("0.5"), ge=0)
    """...if they are at least this share of the customer's payments."""
    new_customer_amount: Decimal = Field(Decimal("2500"), gt=0)
    """A first payment above this fires."""
    duplicate_window_hours: int = Field(72, ge=1)
    """An approved charge of an invoice already charged the same amount within this fires."""
    weights: dict[str, float] = Field(default_factory=dict)
    """Weights (0..1) by reason code over the defaults (docs/risk.md); 0 turns a rule off."""

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown rule codes {unknown}; known: {sorted(DEFAULT_WEIGHTS)}")
        if any(not 0 <= w <= 1 for w in value.values()):
            raise ValueError("rule weights must be between 0 and 1")
        return value


class RiskModelSettings(_Section):
    """The anomaly model: training, storage and schedule (``[risk.model]``)."""

    directory: Path = Path("var/risk-models")
    """Where the model versions and the ``current`` pointer are kept."""
    trees: int = Field(100, ge=10, le=1000)
    """Isolation trees in the forest."""
    sample_size: int = Field(256, ge=16, le=4096)
    """Events each tree is grown on."""
    min_events: int = Field(1000, ge=50)
    """Training refuses fewer events than this."""
    weight: float = Field(0.6, ge=0, le=1)
    """The model's largest share of a score (0: the model never counts)."""
    quantile: float = Field(0.995, gt=0.5, lt=1)
    """Events the model finds less unusual than this share of the training events add nothing."""
    keep_versions: int = Field(5, ge=1)
    """Model versions kept on disk (the current one always is)."""


class RiskSettings(_Section):
    """Risk screening: every payment and refund scored by rules and an anomaly model."""

    mode: Literal["off", "shadow", "enforce"] = "off"
    """``shadow`` scores and records only; ``enforce`` also alerts and holds for review."""
    alert_at: float = Field(0.5, gt=0, le=1)
    """Scores from here on alert the operators."""
    review_at: float = Field(0.8, gt=0, le=1)
    """Scores from here on hold payledger's own postings, charges and refunds for review."""
    rules: RiskRuleSettings = RiskRuleSettings()
    """The rules (``[risk.rules]``)."""
    model: RiskModelSettings = RiskModelSettings()
    """The anomaly model (``[risk.model]``)."""
    history_days: int = Field(90, ge=1, le=3660)
    """How far back the history a subject is scored against reaches (the longest window
    any rule uses)."""
    burst_count: int = Field(10, ge=2)
    """Declines, or authorizations up to ``small_authorization``, within ``burst_seconds``
    that make an attack alert."""
    burst_seconds: int = Field(60, ge=1, le=86400)
    """The window a burst is counted in."""
    small_authorization: Decimal = Field(Decimal("2.00"), ge=0)
    """Authorizations up to this amount count towards a burst (card testing)."""
    train_cron: str = "30 3 * * *"
    """When ``risk.train`` retrains the model on the stored events (``""``: never)."""
    train_events: int = Field(1_000_000, ge=1)
    """The most recent events a training run reads."""

    @model_validator(mode="after")
    def _alert_before_review(self) -> RiskSettings:
        if self.alert_at > self.review_at:
            raise ValueError("alert_at must not exceed review_at")
        return self


class ReconcileSettings(_Section):
    """Settlement reconciliation: PayTrace's settled batches against D365's payment lines."""

    enabled: bool = False
    """Reconcile the previous day every day at ``daily_at`` (needs [paytrace] and [d365])."""
    daily_at: str = "02:30"
    """``HH:MM`` in ``paytrace.timezone``; after PayTrace's batch cutoff."""
    auto_heal: bool = True
    """Enqueue the posting of a settled payment missing in D365 (once), then verify it."""
    deposits: bool = False
    """Post each settled batch as a general journal entry: clearing -> bank, fees -> expense."""
    amount_tolerance: Decimal = Field(Decimal("0.00"), ge=0)
    """How far a hand-keyed line's amount may differ and still be found (then reported)."""
    date_window_days: int = Field(3, ge=0)
    """How far a hand-keyed line's date may be from the payment's."""
    settlement_days: int = Field(1, ge=0)
    """Days from a payment's ledger date to its batch that are normal."""
    lag_days: int = Field(3, ge=0)
    """A timing difference up to this many days is reported but is not an exception."""
    fees: dict[str, FeeRuleSettings] = Field(default_factory=dict)
    """Expected fees by card type (``VISA``, ``MASTERCARD``, ``AMEX``, ``DISCOVER``, ``*``)."""
    hand_keyed_methods: list[str] = Field(default_factory=list)
    """Payment methods of lines keyed by hand to compare (empty: ``d365.payment_method``)."""
    alert_threshold: int = Field(0, ge=0)
    """Alert when a run has more exceptions than this."""
    report_url: str = ""
    """Link to a run's HTML report in alerts; ``{run}`` is replaced by the run id."""

    @field_validator("daily_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("must be a time of day as HH:MM")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @model_validator(mode="after")
    def _lag_covers_settlement(self) -> ReconcileSettings:
        if self.lag_days < self.settlement_days:
            raise ValueError("lag_days must be at least settlement_days")
        return self


class Settings(BaseSettings):
    """All of payledger's configuration, validated at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database: DatabaseSettings = DatabaseSettings()
    worker: WorkerSettings = WorkerSettings()
    service: ServiceSettings = ServiceSettings()
    vault: VaultSettings = VaultSettings()
    logging: LoggingSettings = LoggingSettings()
    tracing: TracingSettings = TracingSettings()
    paytrace: PayTraceSettings = PayTraceSettings()
    d365: D365Settings = D365Settings()
    posting: PostingSettings = PostingSettings()
    sync: SyncSettings = SyncSettings()
    orders: OrderSettings = OrderSettings()
    mapping: MappingSettings = MappingSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    dunning: DunningSettings = DunningSettings()
    risk: RiskSettings = RiskSettings()
    alerts: AlertsSettings = AlertsSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment overrides them.
        return _EnvironmentWithFiles(settings_cls), init_settings


class _EnvironmentWithFiles(EnvSettingsSource):
    """The environment, where ``PAYLEDGER_<SECTION>__<KEY>_FILE=/path`` stands for
    ``PAYLEDGER_<SECTION>__<KEY>`` holding that file's text (one trailing newline dropped)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        variables = dict(self.env_vars)
        for name in list(variables):
            if not secret_file_variable(name.upper()):
                continue
            stem, path = name[: -len(FILE_SUFFIX)], variables.pop(name)
            if stem in variables:
                raise ConfigError(f"set {stem.upper()} or {name.upper()}, not both")
            variables[stem] = _read_secret_file(name.upper(), Path(path or ""))
        self.env_vars = variables


def _read_secret_file(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.__class__.__name__}") from None
    return text.removesuffix("\n").removesuffix("\r")


def setting_key(variable: str) -> str | None:
    """The key (``database.url``) that an environment variable sets, or None."""
    if not variable.startswith(ENV_PREFIX):
        return None
    section, _, key = variable[len(ENV_PREFIX) :].lower().partition("__")
    key = key.split("__")[0]
    model = Settings.model_fields.get(section)
    annotation = model.annotation if model else None
    known = isinstance(annotation, type) and key in getattr(annotation, "model_fields", {})
    return f"{section}.{key}" if known else None


def secret_file_variable(variable: str) -> bool:
    """Whether ``variable`` names a file holding a key's value (``PAYLEDGER_DATABASE__URL_FILE``)
    rather than a key itself (``PAYLEDGER_VAULT__KEY_FILE``)."""
    return (
        variable.endswith(FILE_SUFFIX)
        and setting_key(variable) is None
        and setting_key(variable[: -len(FILE_SUFFIX)]) is not None
    )


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the configuration; raise :class:`ConfigError` naming any bad key."""
    source = _config_path(path)
    data = _read_toml(source) if source else {}
    _reject_unknown_env_keys()
    try:
        return Settings(**data)
    except ValidationError as exc:
        where = f" in {source}" if source else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration{where}: {problems}") from None


def _config_path(path: Path | str | None) -> Path | None:
    explicit = path or os.environ.get("PAYLEDGER_CONFIG")
    if explicit:
        chosen = Path(explicit)
        if not chosen.is_file():
            raise ConfigError(f"configuration file {chosen} does not exist")
        return chosen
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _reject_unknown_env_keys() -> None:
    for name in os.environ:
        if not name.startswith(ENV_PREFIX) or name in _NON_SETTING_ENV:
            continue
        if setting_key(name) is None and not secret_file_variable(name):
            raise ConfigError(f"unknown configuration key in environment variable {name}")
