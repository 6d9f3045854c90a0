"""Dunning as its flows see it: where cases and attempts are kept, how the customer is told,
what the ERP's collections are told, and how a missed charge is reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from payledger.domain.dunning import (
    CollectionsStage,
    DunningCase,
    MissedCharge,
    NoticeKind,
)
from payledger.domain.errors import DomainError


class StaleCase(DomainError):
    """The case changed since it was read (its version moved); read it again."""

    code = "conflict"


class UnknownCase(DomainError):
    """No dunning case has this id."""

    code = "not_found"


@dataclass(frozen=True)
class ClaimedAttempt:
    """An attempt a worker holds (leased to it), with its case as it is now."""

    case: DunningCase
    attempt_id: int
    no: int
    started_at: datetime
    """When the attempt was claimed: a charge an interrupted worker made is found after it."""
    resumed: bool
    """A worker had claimed it before and did not finish it."""


class DunningStore(Protocol):
    """Cases and their attempts; every change is audited.

    An attempt is made once because claiming it inserts its row under a unique (case,
    attempt number) key: whoever inserts first holds it."""

    async def open(self, case: DunningCase, *, actor: str) -> tuple[DunningCase, bool]:
        """Store a new case with its first attempt; returns it with its id and True, or the
        case already stored under its ``source_key`` and False."""
        ...

    async def get(self, case_id: int) -> DunningCase | None: ...

    async def active_for_invoice(self, invoice_number: str) -> DunningCase | None:
        """The case of the invoice that is open, scheduled or exhausted, if any."""
        ...

    async def change(
        self, case: DunningCase, *, actor: str, action: str, detail: dict[str, Any]
    ) -> DunningCase:
        """Store ``case`` over the stored one of the same version (then version + 1), with an
        audit entry: its status, schedule and reason, and the outcome of each of its attempts
        that finished (a finished attempt's lease ends).

        Raises:
            StaleCase: the stored version is another one.
        """
        ...

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        owner: str,
        lease: timedelta,
        case_id: int | None = None,
    ) -> list[ClaimedAttempt]:
        """Lease up to ``limit`` attempts to ``owner`` (only of ``case_id`` when given): first
        started ones nobody holds any more (a worker that died), then a new attempt of each
        case whose retry is due at ``now``."""
        ...

    async def start_charge(self, attempt_id: int) -> bool:
        """Note that the attempt's charge is starting; True if an earlier holder had started."""
        ...

    async def release(self, attempt_id: int, error: str) -> None:
        """Give the attempt back unfinished (the next run resumes it)."""
        ...

    async def declines_since(self, since: datetime) -> int:
        """Declined or failed attempts (first charges included) finished since ``since``."""
        ...


class DunningNotices(Protocol):
    """Tells the customer where their missed payment stands (an e-mail outbox)."""

    async def notify(self, case: DunningCase, notice: NoticeKind) -> None:
        """Queue ``notice`` about ``case`` durably; sending happens later, and a customer
        without an address is the implementation's to report."""
        ...


class CollectionsErp(Protocol):
    """The ERP's collections view of the customer (status field, notes, hold)."""

    async def advance(self, case: DunningCase, stage: CollectionsStage) -> None:
        """Record that the case reached ``stage`` (``final_attempt_failed``: on hold)."""
        ...

    async def undo(self, case: DunningCase) -> None:
        """Take back what :meth:`advance` did for the case (it was recovered or paid)."""
        ...


class MissedCharges(Protocol):
    """Where a declined or failed charge is reported so dunning takes it over."""

    async def charge_missed(self, missed: MissedCharge) -> DunningCase:
        """Open the missed charge's case (once: a second report returns the same case)."""
        ...
