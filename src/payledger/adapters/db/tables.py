"""The schema: one SQLAlchemy Core ``MetaData`` shared by the engine, the vault and the flows.

Alembic migrations under ``migrations/`` create exactly this schema; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from payledger.adapters.db.types import JsonDoc, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("payload", JsonDoc, nullable=False),
    Column("status", String(20), nullable=False, server_default="received"),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime),
    Column("last_error", Text),
    UniqueConstraint("source", "external_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(80), nullable=False),
    Column("payload", JsonDoc, nullable=False),
    Column("status", String(20), nullable=False),
    Column("dedupe_key", String(200), unique=True),
    Column("ordering_key", String(200)),
    Column("run_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False),
    Column("lease_owner", String(80)),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("last_error", Text),
    Column("history", JsonDoc, nullable=False),
    Column("trace_context", String(55)),  # W3C traceparent of the span that enqueued it
    Index(
        "ix_jobs_claimable",
        "run_at",
        "id",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_jobs_ordering",
        "ordering_key",
        "id",
        sqlite_where=text("status IN ('pending', 'running')"),
        postgresql_where=text("status IN ('pending', 'running')"),
    ),
    Index("ix_jobs_status_lease", "status", "lease_until"),
)

schedule_ticks = Table(
    "schedule_ticks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("schedule", String(80), nullable=False),
    Column("fire_at", UTCDateTime, nullable=False),
    Column("fired_by", String(80), nullable=False),
    Column("job_id", BigInteger),
    UniqueConstraint("schedule", "fire_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client", String(80), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("response_status", Integer),
    Column("response_body", JsonDoc),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    UniqueConstraint("client", "key"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

secrets = Table(
    "secrets",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("gateway_txn_id", String(64), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("reference", String(80), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("company", String(10), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("customer_account", String(40), nullable=False, server_default=""),
    Column("payload", Text, nullable=False),  # exact JSON: decimals stay decimals
    Column("target_reference", String(80), nullable=False, server_default=""),
    Column("journal_batch_number", String(20)),
    Column("line_number", Integer),
    Column("inbox_id", BigInteger),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("posted_at", UTCDateTime),
    # the template version that mapped the payload: d365_payment_journal_line@3, ...@default
    Column("template_version", String(160), nullable=False, server_default=""),
    UniqueConstraint("gateway_txn_id", "operation"),
    Index("ix_postings_state_company", "state", "company", "id"),
)

journals = Table(
    "journals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company", String(10), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("journal_name", String(20), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("batch_number", String(20)),
    Column("next_line", Integer, nullable=False),
    Column("closed", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("post_state", String(16), nullable=False, server_default="unposted"),
    Column("approved_by", String(80)),
    Column("approved_at", UTCDateTime),
    Column("post_attempts", Integer, nullable=False, server_default="0"),
    Column("post_error", Text),
    Column("posted_at", UTCDateTime),
    UniqueConstraint(
        "company", "business_day", "currency", "journal_name", "generation", name="uq_journals_key"
    ),
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("value", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(80), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", JsonDoc, nullable=False),
)

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client_id", BigInteger, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex, never the token
    Column("prefix", String(16), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Index("ix_api_tokens_client_id", "client_id"),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),  # sha256 base64url, never the id
    Column("token_id", BigInteger, nullable=False),
    Column("user_name", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

api_payments = Table(
    "api_payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("gateway_txn_id", String(64), nullable=False, unique=True),
    Column("client", String(80), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("captured_amount", String(32), nullable=False, server_default="0"),
    Column("refunded_amount", String(32), nullable=False, server_default="0"),
    Column("original_txn_id", String(64), nullable=False, server_default=""),
    Column("invoice_number", String(40), nullable=False, server_default=""),
    Column("sales_order_number", String(40), nullable=False, server_default=""),
    Column("customer_account", String(40), nullable=False, server_default=""),
    Column("response_code", String(10), nullable=False, server_default=""),
    Column("approval_code", String(20), nullable=False, server_default=""),
    Column("masked_card", String(32), nullable=False, server_default=""),
    Column("message", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_api_payments_invoice_number", "invoice_number"),
    Index("ix_api_payments_sales_order_number", "sales_order_number"),
)

business_events = Table(
    "business_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("control_number", BigInteger, unique=True),
    Column("business_event_id", String(120), nullable=False),
    Column("legal_entity", String(10), nullable=False, server_default=""),
    Column("payload", JsonDoc, nullable=False),
    Column("status", String(20), nullable=False),
    Column("outcome", Text, nullable=False, server_default=""),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime),
)

alerts = Table(
    "alerts",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("severity", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("facts", JsonDoc, nullable=False),
    # occurrences not sent yet: the next alert of this key carries them all as its count
    Column("pending", Integer, nullable=False, server_default="0"),
    Column("first_at", UTCDateTime),
    Column("last_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
    Index("ix_alerts_due_at", "due_at"),
)

recon_runs = Table(
    "recon_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company", String(10), nullable=False),
    Column("first_day", String(10), nullable=False),
    Column("last_day", String(10), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("status", String(16), nullable=False),  # running, done, failed
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("exceptions", Integer, nullable=False, server_default="0"),
    Column("counts", JsonDoc),
    Column("report", JsonDoc),  # the JSON report; CSV and HTML are its renderings
    Column("report_csv", Text),
    Column("report_html", Text),
    Column("error", Text),
    Index("ix_recon_runs_company_first_day", "company", "first_day"),
)

recon_items = Table(
    "recon_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, nullable=False),
    Column("class", String(24), nullable=False),
    Column("exception", Integer, nullable=False),
    Column("txn_id", String(64), nullable=False, server_default=""),
    Column("reference", String(80), nullable=False, server_default=""),
    Column("batch_number", String(20), nullable=False, server_default=""),
    Column("card_type", String(20), nullable=False, server_default=""),
    Column("currency", String(3), nullable=False, server_default=""),
    Column("paytrace_amount", String(32), nullable=False, server_default=""),
    Column("d365_amount", String(32), nullable=False, server_default=""),
    Column("d365_lines", String(200), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    # auto-heal of a line missing in D365: enqueued, in_flight, parked, needs_attention, verified
    Column("heal_state", String(20)),
    Column("heal_checked_at", UTCDateTime),
    Index("ix_recon_items_run_id", "run_id"),
    Index("ix_recon_items_heal_state", "heal_state"),
)

summary_members = Table(
    "summary_members",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company", String(10), nullable=False),
    Column("batch_number", String(20), nullable=False),
    Column("txn_id", String(64), nullable=False),
    Column("method", String(20), nullable=False),
    Column("kind", String(16), nullable=False),  # payment or refund
    Column("amount", String(32), nullable=False),  # signed decimal text, like postings.amount
    Column("currency", String(3), nullable=False),
    Column("line_reference", String(80), nullable=False, server_default=""),
    Column("business_day", String(10), nullable=False),  # YYYY-MM-DD, company timezone
    Column("voided", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("company", "txn_id"),
    Index("ix_summary_members_company_batch_number", "company", "batch_number"),
    Index("ix_summary_members_company_business_day", "company", "business_day"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_account", String(40), nullable=False),
    Column("vault_customer_id", String(80), nullable=False),
    Column("amount", String(32), nullable=False),  # decimal text, like postings.amount
    Column("currency", String(3), nullable=False),
    Column("description", String(200), nullable=False),
    Column("item", String(40), nullable=False, server_default=""),
    Column("ledger_account", String(40), nullable=False, server_default=""),
    Column("interval_unit", String(8), nullable=False),  # day, week, month, year
    Column("interval_every", Integer, nullable=False),
    Column("interval_rule", String(100), nullable=False, server_default=""),  # cron, or ""
    Column("anchor", String(10), nullable=False),  # YYYY-MM-DD in timezone
    Column("timezone", String(64), nullable=False),
    Column("trial_end", String(10)),
    Column("end_date", String(10)),
    Column("max_periods", Integer),
    Column("status", String(16), nullable=False),
    Column("cancel_at_period_end", Boolean, nullable=False, server_default=false()),
    Column("next_period", Integer, nullable=False, server_default="0"),
    # when a billing run next has work here; NULL when paused or finished
    Column("next_due_at", UTCDateTime),
    Column("credit", String(32), nullable=False, server_default="0"),
    Column("version", Integer, nullable=False),
    Column("created_by", String(120), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the PayTrace recurrence it was imported from (one subscription per recurrence), and
    # whether that recurrence still charges its periods (not taken over yet)
    Column("gateway_schedule_id", String(40)),
    Column("billed_by_gateway", Boolean, nullable=False, server_default=false()),
    Index("ix_subscriptions_next_due_at", "next_due_at", "id"),
    Index("ix_subscriptions_customer_account", "customer_account"),
    Index("ix_subscriptions_created_by", "created_by", "id"),
    Index("uq_subscriptions_gateway_schedule_id", "gateway_schedule_id", unique=True),
)

subscription_periods = Table(
    "subscription_periods",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscription_id", BigInteger, nullable=False),
    Column("period_index", Integer, nullable=False),
    Column("entry", Integer, nullable=False),  # 0: the period; 1, 2, ...: its prorations
    Column("starts_on", String(10), nullable=False),
    Column("ends_on", String(10), nullable=False),  # exclusive
    # planned, invoiced, charged, declined, failed, skipped, gateway_paid
    Column("status", String(16), nullable=False),
    Column("lines", JsonDoc, nullable=False),  # [{description, amount}], fixed at the claim
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("invoice_key", String(40), nullable=False),
    Column("invoice_number", String(40), nullable=False, server_default=""),
    Column("gateway_txn_id", String(64), nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=False, server_default=""),
    Column("charge_started_at", UTCDateTime),
    Column("lease_owner", String(80)),
    Column("lease_until", UTCDateTime),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # inserting the row is the claim: a period (and each proration) is billed once
    UniqueConstraint("subscription_id", "period_index", "entry"),
    Index(
        "ix_subscription_periods_unfinished",
        "id",
        sqlite_where=text("status IN ('planned', 'invoiced')"),
        postgresql_where=text("status IN ('planned', 'invoiced')"),
    ),
)

dunning_cases = Table(
    "dunning_cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),  # subscription, auto_pay, api
    Column("source_key", String(120), nullable=False),  # one case per missed charge
    Column("invoice_number", String(40), nullable=False),
    Column("customer_account", String(40), nullable=False),
    Column("vault_customer_id", String(80), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    # open, retry_scheduled, recovered, exhausted, stopped, paid_elsewhere
    Column("status", String(16), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("card_replaced", Boolean, nullable=False, server_default=false()),
    Column("subscription_id", BigInteger),
    Column("reason", Text, nullable=False, server_default=""),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source_key"),
    Index("ix_dunning_cases_invoice_number", "invoice_number"),
    Index("ix_dunning_cases_next_attempt_at", "next_attempt_at", "id"),
)

dunning_attempts = Table(
    "dunning_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=False),
    Column("attempt_no", Integer, nullable=False),  # 0: the charge that was missed
    # started, approved, declined, failed, nothing_open
    Column("outcome", String(16), nullable=False),
    Column("decline_class", String(8)),
    Column("reason", Text, nullable=False, server_default=""),
    Column("gateway_txn_id", String(64), nullable=False, server_default=""),
    Column("error", Text, nullable=False, server_default=""),
    Column("started_at", UTCDateTime, nullable=False),
    Column("charge_started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("lease_owner", String(80)),
    Column("lease_until", UTCDateTime),
    # inserting the row is the claim: an attempt is made once
    UniqueConstraint("case_id", "attempt_no"),
    Index("ix_dunning_attempts_finished_at", "finished_at"),
    Index(
        "ix_dunning_attempts_started",
        "id",
        sqlite_where=text("outcome = 'started'"),
        postgresql_where=text("outcome = 'started'"),
    ),
)

dunning_notices = Table(
    "dunning_notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=False),
    # payment_failed, retry_scheduled, final_notice, recovered
    Column("kind", String(24), nullable=False),
    Column("attempt_no", Integer, nullable=False),  # the case's last attempt when decided
    # pending, sending, sent, no_address
    Column("status", String(16), nullable=False),
    Column("message_id", String(200), nullable=False),  # kept: a resend carries the same
    Column("link_nonce", String(64)),
    Column("tries", Integer, nullable=False, server_default="0"),
    Column("next_try_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(80)),
    Column("lease_until", UTCDateTime),
    Column("recipient", String(320), nullable=False, server_default=""),
    Column("error", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # one notice per step of a case, however often the step is reported
    UniqueConstraint("case_id", "kind", "attempt_no"),
    Index("ix_dunning_notices_status_next_try_at", "status", "next_try_at"),
)

dunning_card_links = Table(
    "dunning_card_links",
    metadata,
    Column("nonce", String(64), primary_key=True),  # the single-use part of a link token
    Column("case_id", BigInteger, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("status", String(8), nullable=False),  # open, busy, used
    Column("posts", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

template_versions = Table(
    "template_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("template", String(120), nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, ...; 0 is the seed, never stored
    Column("body", Text, nullable=False),  # the YAML as saved
    Column("author", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("based_on", Integer, nullable=False),  # the version the author started from
    Column("checksum", String(64), nullable=False),  # sha256 hex of body
    UniqueConstraint("template", "version"),
)

template_activations = Table(
    "template_activations",
    metadata,
    # the highest id is the generation a process compares to see an activation
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("template", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("previous", Integer, nullable=False),  # the version in force before (0: the seed)
    Column("action", String(16), nullable=False),  # activate, rollback
    Column("actor", String(120), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Index("ix_template_activations_template_id", "template", "id"),
)

template_active = Table(
    "template_active",
    metadata,
    Column("template", String(120), primary_key=True),  # one version in force per template
    Column("version", Integer, nullable=False),
    Column("activation_id", BigInteger, nullable=False),
    Column("activated_by", String(120), nullable=False),
    Column("activated_at", UTCDateTime, nullable=False),
)

risk_assessments = Table(
    "risk_assessments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("transaction_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # sale, authorization, refund, decline
    Column("score", Float, nullable=False),
    Column("action", String(8), nullable=False),  # allow, alert, review
    Column("reasons", JsonDoc, nullable=False),  # [{code, detail, weight}]
    Column("model_version", String(64), nullable=False, server_default=""),
    Column("assessed_at", UTCDateTime, nullable=False),
    # the subject, as the history windows query it (a card is its token, never a number)
    Column("customer_id", String(80), nullable=False, server_default=""),
    Column("card_token", String(120), nullable=False, server_default=""),
    Column("billing_zip", String(16), nullable=False, server_default=""),
    Column("ip_address", String(45), nullable=False, server_default=""),
    Column("avs_result", String(80), nullable=False, server_default=""),
    Column("csc_result", String(40), nullable=False, server_default=""),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("invoice_ref", String(80), nullable=False, server_default=""),
    Column("original_transaction_id", String(64), nullable=False, server_default=""),
    # one assessment per screened event, however often it is processed
    UniqueConstraint("transaction_id", "kind"),
    Index("ix_risk_assessments_customer_id_occurred_at", "customer_id", "occurred_at"),
    Index("ix_risk_assessments_card_token_occurred_at", "card_token", "occurred_at"),
    Index("ix_risk_assessments_billing_zip_occurred_at", "billing_zip", "occurred_at"),
    Index("ix_risk_assessments_ip_address_occurred_at", "ip_address", "occurred_at"),
    Index("ix_risk_assessments_kind_occurred_at", "kind", "occurred_at"),
    Index("ix_risk_assessments_invoice_ref", "invoice_ref"),
    Index("ix_risk_assessments_occurred_at", "occurred_at"),
)

risk_reviews = Table(
    "risk_reviews",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_kind", String(16), nullable=False),  # posting, charge, refund
    Column("item_ref", String(120), nullable=False),  # the transaction, or the charge's key
    Column("transaction_id", String(64), nullable=False, server_default=""),
    Column("state", String(10), nullable=False),  # pending, approved, rejected
    Column("score", Float, nullable=False),
    Column("reasons", JsonDoc, nullable=False),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_id", String(80), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", String(120)),
    Column("decided_at", UTCDateTime),
    Column("comment", Text, nullable=False, server_default=""),
    # one review per held item, however often it is held
    UniqueConstraint("item_kind", "item_ref"),
    Index("ix_risk_reviews_state_created_at", "state", "created_at"),
)

risk_releases = Table(
    "risk_releases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("review_id", BigInteger, nullable=False),
    Column("job_kind", String(80), nullable=False),
    Column("payload", JsonDoc, nullable=False),
    Column("dedupe_key", String(200), nullable=False),  # the released job's, so once ever
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("dedupe_key"),
    Index("ix_risk_releases_review_id", "review_id"),
)
