"""The ledger side: posting, sync, orders, mappings and reconciliation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from payledger.config.base import Section


class PostingSettings(Section):
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


class SyncSettings(Section):
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


class OrderSettings(Section):
    """Shop orders (``POST /api/v1/orders``): charge, then create the order in D365."""

    transaction: Literal["sale", "authorization"] = "sale"
    """What the card is charged with: a sale, or an authorization captured at fulfilment."""
    on_decline: Literal["nothing", "hold"] = "nothing"
    """``hold``: a declined order is still created in D365, with payment status Declined."""
    d365_timeout_seconds: float = Field(10.0, gt=0)
    """How long the request waits for D365 before answering 202 and finishing in the queue."""


class MappingSettings(Section):
    """Where templates come from."""

    templates_dir: Path | None = None
    """A folder of YAML templates; one named like a default template replaces it."""
    versions_check_seconds: float = Field(2.0, ge=0)
    """How long a process keeps its templates before checking for a new activation."""


class FeeRuleSettings(Section):
    """An expected gateway fee: ``percent`` of the amount plus ``fixed`` (in major units)."""

    percent: Decimal = Field(Decimal(0), ge=0, le=100)
    fixed: Decimal = Field(Decimal(0), ge=0)


class ReconcileSettings(Section):
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
