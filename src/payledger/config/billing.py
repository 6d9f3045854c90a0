"""Recurring billing and dunning."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from payledger.config.base import Section, hh_mm


class SubscriptionSettings(Section):
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


class DunningCollectionsSettings(Section):
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


class DunningNoticeSettings(Section):
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


class DunningSettings(Section):
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
        return hh_mm(value)

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
