"""Daily-summary postings and the members behind them (``stores.summary``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from payledger.domain.posting import Posting
from payledger.domain.summary import DetailRow


class SummaryStore(Protocol):
    """A settled batch's summary lines as owed postings, and its per-transaction detail."""

    async def lines_per_payment(self, txn_ids: Sequence[str]) -> set[str]:
        """Those of ``txn_ids`` that have a per-payment line owed or written (from before the
        switch to summary mode): they are not summed again."""
        ...

    async def record_summary(
        self, detail: Sequence[DetailRow], lines: Sequence[Posting], *, company: str
    ) -> dict[str, str]:
        """Keep the detail and owe the lines (those already there are left alone), and make
        sure a flush of ``company`` is due, in one transaction; returns by line reference
        ``new``, or the state of the posting that was already there."""
        ...
