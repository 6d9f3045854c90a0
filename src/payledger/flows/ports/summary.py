"""Daily-summary postings and the members behind them (``stores.summary``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from payledger.domain.posting import Posting
from payledger.domain.summary import DetailRow, PaymentDetail


class SummaryStore(Protocol):
    """A settled batch's summary lines as owed postings, and its per-transaction detail (kept
    from each payment's first event, one row per transaction and company)."""

    async def keep_payment(self, detail: PaymentDetail, *, company: str) -> None:
        """Keep a payment's detail row if it has none yet (an event seen again changes
        nothing); a voided one marks the row voided, or keeps it voided if it comes first."""
        ...

    async def lines_per_payment(self, txn_ids: Sequence[str]) -> set[str]:
        """Those of ``txn_ids`` that have a per-payment line owed or written (from before the
        switch to summary mode): they are not summed again."""
        ...

    async def voided(self, txn_ids: Sequence[str], *, company: str) -> set[str]:
        """Those of ``txn_ids`` whose detail row is marked voided: they are not summed."""
        ...

    async def record_summary(
        self,
        detail: Sequence[DetailRow],
        lines: Sequence[Posting],
        *,
        company: str,
        business_day: str,
    ) -> dict[str, str]:
        """Keep the detail (filling in batch, method, amount and line of the rows kept since
        their events; ``business_day`` is the day of those payledger never saw) and owe the
        lines (those already there are left alone), and make sure a flush of ``company`` is
        due, in one transaction; returns by line reference ``new``, or the state of the
        posting that was already there."""
        ...
