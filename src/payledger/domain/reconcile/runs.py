"""What a reconciliation run stores and hands on: its record, heals and deposit orders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from payledger.domain.events import PaymentObserved
from payledger.domain.model import SettlementBatch


class HealState(StrEnum):
    """Where the auto-heal of a payment missing in D365 stands."""

    ENQUEUED = "enqueued"
    """Stored through the inbox now; the posting flow will write its line."""
    IN_FLIGHT = "in_flight"
    """Its event or posting was already on its way (an earlier run, or the poller)."""
    PARKED = "parked"
    """Its posting or event is parked (dead): fix the cause, then ``payledger replay``."""
    NEEDS_ATTENTION = "needs_attention"
    """payledger posted (or cancelled) it, yet D365 has no line: a human must look."""
    FAILED = "failed"
    """PayTrace could not be asked for it; the next run tries again."""
    VERIFIED = "verified"
    """Its line was found in D365 by a later run."""


class DepositState(StrEnum):
    ENQUEUED = "enqueued"
    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"


@dataclass(frozen=True)
class HealRequest:
    """A settled payment missing in the ledger, as the gateway reports it now."""

    event: PaymentObserved
    reference: str
    """The ledger reference its line must carry."""
    operation: str


@dataclass(frozen=True)
class OutstandingHeal:
    item_id: int
    txn_id: str
    reference: str


@dataclass(frozen=True)
class DepositOrder:
    """A settled batch whose deposit must be posted: ``batch.net`` is the payout (net of the
    expected fees), ``batch.fees`` the expected fees."""

    company: str
    batch: SettlementBatch


@dataclass
class RunRecord:
    """What a finished run stores: the report, its renderings and its listed items."""

    report: dict[str, Any]
    csv: str
    html: str
    items: list[dict[str, Any]] = field(default_factory=list)


def previous_day(tick: datetime, timezone: str) -> date:
    """The vendor-local day before the one ``tick`` falls on (the day a scheduled run
    reconciles)."""
    return tick.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
