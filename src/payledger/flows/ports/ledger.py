"""The ERP's customer payment journals as the posting flows see them (D365 F&O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from payledger.domain.model import Payment
from payledger.domain.posting import Posting


class JournalOpener(Protocol):
    async def open_payment_journal(self, description: str) -> str:
        """Create a customer payment journal header; returns its batch number."""
        ...


class LedgerWriteResult(Protocol):
    lines_error: str | None
    """Why the line changeset was refused (None when it was written)."""
    failed: dict[str, str]
    """Removals and order updates that were refused, by reference."""


class Ledger(JournalOpener, Protocol):
    """The ERP as the posting flows see it (implemented on D365 F&O OData)."""

    async def customer_account_for(self, gateway_customer_id: str) -> str | None:
        """The ERP customer whose gateway-id extension field holds ``gateway_customer_id``."""
        ...

    async def order_number_for(self, reference: str) -> str | None:
        """The sales order number of the shop order ``reference`` (or of that number itself)."""
        ...

    async def journal_is_posted(self, batch_number: str) -> bool: ...

    async def enrichment(self, need: str, payment: Payment, account: str) -> dict[str, Any] | None:
        """The ERP row a template declared under ``needs`` (``d365_customer``, ``d365_order``,
        ``d365_invoice``) for this payment, or None when there is none."""
        ...

    async def write(self, lines: Sequence[Posting], others: Sequence[Posting]) -> LedgerWriteResult:
        """One request: ``lines`` in one atomic changeset, each removal or order update in its own.

        Raises:
            AmbiguousOutcome: the request may or may not have been applied.
            TransientError: nothing was applied; try again later.
        """
        ...

    async def existing_references(self, lines: Sequence[Posting]) -> set[str]:
        """References of ``lines`` that already exist in the ledger."""
        ...
