"""The journals payledger opened, on their way to posted (``stores.journals``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from payledger.domain.posting import Journal, JournalContents


class JournalBook(Protocol):
    """The lifecycle of payledger's payment journals: closed to new lines, approved, posted.

    Closing is one conditional update of the journal's row, the row a flush updates to
    number lines into it: a line is either numbered before the journal closed (and counted
    as owed until written) or not numbered into it at all.
    """

    async def close_due(self, company: str, last_day: str, opened_before: datetime) -> list[str]:
        """Close the open journals of ``company`` whose business day is ``last_day`` or earlier
        and that were opened before ``opened_before``; returns their batch numbers."""
        ...

    async def journal(self, batch_number: str) -> Journal | None: ...

    async def unposted(self, company: str) -> list[Journal]:
        """Closed journals of ``company`` with a batch number, not posted yet, oldest first."""
        ...

    async def contents(self, batch_number: str) -> JournalContents:
        """payledger's lines in the journal: written (less those removed) and still owed."""
        ...

    async def approve(self, batch_number: str, actor: str) -> Journal | None:
        """An operator approves posting: recorded, and the journal is closed to new lines.
        None when there is no such journal; a posted one is returned unchanged."""
        ...

    async def start_posting(self, batch_number: str) -> bool:
        """Mark the journal ``posting`` (one more attempt) before the request goes out; only
        when it is closed, not posted and none of its lines is owed. False otherwise."""
        ...

    async def posted(self, batch_number: str) -> None:
        """The ledger confirmed the journal posted (its error, if any, is cleared)."""
        ...

    async def refused(self, batch_number: str, error: str) -> None:
        """The ledger refused to post the journal, in ``error``'s words."""
        ...

    async def note_error(self, batch_number: str, error: str) -> None:
        """Why the journal was not posted this time (its state stays)."""
        ...
