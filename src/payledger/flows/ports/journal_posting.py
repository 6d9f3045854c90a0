"""Posting payment journals in the ERP, and reading back what posting did (D365 F&O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class JournalReadback:
    """A payment journal as the ERP holds it now."""

    batch_number: str
    exists: bool
    is_posted: bool
    line_count: int = 0
    total: Decimal = Decimal(0)
    """Net amount of its lines (credits minus debits), in the journal's currency."""


class JournalPoster(Protocol):
    """Posts customer payment journals through the ERP's journal-posting service."""

    async def post_journal(self, batch_number: str) -> None:
        """Ask the ERP to post the journal.

        Raises ``RejectedError`` (the ERP's own words) when it refuses, ``ConfigError`` when
        the posting service is not deployed, ``TransientError`` when the ERP is down or
        throttling, and ``AmbiguousOutcome`` when the answer was lost or unreadable: then
        :meth:`read_journal` tells whether it was posted.
        """
        ...

    async def read_journal(self, batch_number: str) -> JournalReadback: ...

    async def open_invoice_amounts(self, invoices: Sequence[str]) -> dict[str, Decimal]:
        """What is still open on each invoice (in its own currency); unknown ones left out."""
        ...
