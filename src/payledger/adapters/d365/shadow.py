"""Shadow mode's ledger: D365 is read as in production, and nothing is ever written to it.

:class:`ShadowLedger` implements ``flows.ports.Ledger`` around the real ledger. Lookups and
enrichment go to D365; journals get local ``SHADOW-...`` numbers; every write is accepted
without a request, so the posting store keeps each would-be payload (in the ``shadow`` state)
for ``payledger shadow report``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from payledger.domain.model import Payment
from payledger.domain.posting import Posting
from payledger.flows.ports import Ledger

SHADOW_JOURNAL_PREFIX = "SHADOW-"


@dataclass
class ShadowWriteResult:
    lines_error: str | None = None
    failed: dict[str, str] = field(default_factory=dict)


class ShadowLedger:
    """Reads through ``inner``; writes nothing and reports every write as accepted."""

    def __init__(self, inner: Ledger) -> None:
        self.inner = inner
        self.would_be_requests = 0
        """Write requests the live ledger would have sent (in this process)."""

    async def customer_account_for(self, gateway_customer_id: str) -> str | None:
        return await self.inner.customer_account_for(gateway_customer_id)

    async def order_number_for(self, reference: str) -> str | None:
        return await self.inner.order_number_for(reference)

    async def enrichment(self, need: str, payment: Payment, account: str) -> dict[str, Any] | None:
        return await self.inner.enrichment(need, payment, account)

    async def open_payment_journal(self, description: str) -> str:
        """A stable local number for the journal ``description`` names (the same after a crash)."""
        digest = hashlib.sha256(description.encode()).hexdigest()[:10].upper()
        return f"{SHADOW_JOURNAL_PREFIX}{digest}"

    async def journal_is_posted(self, batch_number: str) -> bool:
        if batch_number.startswith(SHADOW_JOURNAL_PREFIX):
            return False  # nobody can post a journal that exists only here
        return await self.inner.journal_is_posted(batch_number)

    async def write(self, lines: Sequence[Posting], others: Sequence[Posting]) -> ShadowWriteResult:
        self.would_be_requests += 1
        return ShadowWriteResult()

    async def existing_references(self, lines: Sequence[Posting]) -> set[str]:
        return set()  # a shadow line was never sent, so it exists nowhere
