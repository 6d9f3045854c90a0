"""Recurring billing as the flows see the ERP: free-text invoices and the customer's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from payledger.domain.money import Money


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    amount: Money
    ledger_account: str = ""
    """Main account the line is booked to (``[subscriptions] revenue_account`` by default)."""
    item: str = ""
    """An item number instead of an account, when the plan names one."""


@dataclass(frozen=True)
class FreeTextInvoice:
    """A free-text invoice to issue for one subscription period."""

    key: str
    """payledger's key for the period (kept on the header), e.g. ``SUB-12-P3``."""
    customer_account: str
    invoice_date: date
    currency: str
    lines: tuple[InvoiceLine, ...]

    @property
    def total(self) -> Money:
        return sum((line.amount for line in self.lines[1:]), self.lines[0].amount)


@dataclass(frozen=True)
class IssuedInvoice:
    key: str
    number: str
    """The posted invoice's number ("" while it is a draft)."""
    posted: bool


class FreeTextInvoicing(Protocol):
    """Issues free-text invoices in the ERP, exactly once per key."""

    async def find(self, key: str) -> IssuedInvoice | None:
        """The invoice (draft or posted) that carries ``key``, if any."""
        ...

    async def create(self, invoice: FreeTextInvoice) -> IssuedInvoice:
        """Create the draft (header and lines); an existing one with the key is returned."""
        ...

    async def post(self, key: str) -> IssuedInvoice:
        """Post the draft with ``key`` (a posted one is returned as it is).

        Raises ``RejectedError`` when the ERP refuses, ``TransientError`` when it is down and
        ``AmbiguousOutcome`` when the answer was lost: :meth:`find` then tells."""
        ...


class SubscriptionMirror(Protocol):
    """Shows a customer's subscription status in the ERP (a customer extension field)."""

    async def set_status(self, customer_account: str, status: str) -> None: ...
