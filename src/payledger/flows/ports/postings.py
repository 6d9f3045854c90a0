"""The postings the ledger is owed and the day journals they go into (``stores.postings``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from payledger.domain.posting import DayJournal, Posting


class PostingStore(Protocol):
    """The ``postings`` the ledger is owed, and the journals lines go into."""

    async def find(self, gateway_txn_id: str, operation: str) -> Posting | None: ...

    async def record(self, inbox_id: int, owed: Sequence[Posting], *, company: str) -> int:
        """Store new postings (existing ones are left alone), mark the event processed and
        make sure a flush of ``company`` is due, all in one transaction; returns how many
        postings were new."""
        ...

    async def mark_event(self, inbox_id: int, status: str, error: str | None = None) -> None: ...

    async def cancel(self, reference: str) -> bool:
        """Cancel a posting that was never sent; False if it is already on its way."""
        ...

    async def claim(
        self, company: str, limit: int, *, retake_sending: bool = True
    ) -> list[Posting]:
        """Move up to ``limit`` owed postings of ``company`` to sending, oldest first; with
        ``retake_sending``, also those a dead flush left sending (returned as unknown)."""
        ...

    async def open_journal_numbers(self, company: str) -> set[str]:
        """Batch numbers of the journals of ``company`` whose numbered lines may still be sent:
        neither posted nor being posted (closed ones included)."""
        ...

    async def latest_journal(
        self, company: str, business_day: str, currency: str, journal_name: str
    ) -> DayJournal | None:
        """The last generation of the day's journal in ``currency``, if there is one; it is
        ``closed`` when it takes no new lines (closed, approved, being posted or posted)."""
        ...

    async def add_journal(self, journal: DayJournal) -> None:
        """Keep a journal not yet opened in the ledger (no batch number); its generation must
        be new."""
        ...

    async def set_batch_number(self, journal: DayJournal, batch_number: str) -> None:
        """The ledger opened ``journal`` under ``batch_number``."""
        ...

    async def number_lines(
        self, company: str, batch_number: str, lines: Sequence[Posting]
    ) -> list[Posting]:
        """Give ``lines`` the journal's next line numbers, persisted; returns those numbered
        here. A line whose journal or number changed since it was claimed (another flush
        numbered it) is left as it is and left out.

        Raises:
            JournalClosed: the journal takes no new lines (nothing was numbered).
        """
        ...

    async def close_journal(self, batch_number: str) -> None:
        """The journal was posted in the ledger (by someone else): it is closed and posted,
        and later lines of its day need a new one."""
        ...

    async def settle(
        self,
        *,
        posted: Sequence[str] = (),
        replan: Sequence[str] = (),
        unknown: Sequence[str] = (),
        dead: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Record outcomes by reference: posted, back to planned, unknown, or dead (with error)."""
        ...

    async def planned_count(self, company: str) -> int: ...
