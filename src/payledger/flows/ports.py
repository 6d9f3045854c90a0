"""The ports flows depend on; adapters implement them, ``bootstrap`` wires them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from payledger.domain.events import DeliveryRecorded, PaymentObserved, Recorded
from payledger.domain.model import Customer, Payment
from payledger.domain.posting import Posting


class PaymentSource(Protocol):
    """Where payments are observed (the gateway's reporting API)."""

    name: str
    """The inbox source name, e.g. ``"paytrace"``."""

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        """Payments created or changed between two instants (a superset is fine)."""
        ...


class PaymentEventStore(Protocol):
    """Durable, deduplicated storage of observed payments plus the poll watermark."""

    async def watermark(self, name: str) -> datetime | None:
        """Where the last complete poll of ``name`` ended, if it ever ran."""
        ...

    async def record(
        self, source: str, events: Sequence[PaymentObserved], *, watermark: tuple[str, datetime]
    ) -> Recorded:
        """Store the events (duplicates ignored) and move the watermark, in one transaction."""
        ...


class PaymentLookup(Protocol):
    """Reads one payment's current state from the gateway by its transaction id."""

    name: str
    """The inbox source name, e.g. ``"paytrace"``."""

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        """The transaction as the gateway reports it now.

        Raises:
            RejectedError: the gateway does not know the transaction.
            TransientError: the gateway cannot be reached or answered with a fault.
        """
        ...


class DeliveryLog(Protocol):
    """Signed deliveries already received (the replay defence), and the inbox they feed."""

    async def fingerprint_of(self, delivery_id: str) -> str | None:
        """The body fingerprint ``delivery_id`` arrived with before, or None if it is new."""
        ...

    async def record(
        self, source: str, delivery_id: str, fingerprint: str, event: PaymentObserved
    ) -> DeliveryRecorded:
        """Remember the delivery and store its event in the inbox, in one transaction."""
        ...


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

    async def claim(self, company: str, limit: int) -> list[Posting]:
        """Move up to ``limit`` planned postings of ``company`` to sending, oldest first."""
        ...

    async def place_lines(
        self, company: str, journal_name: str, lines: Sequence[Posting], ledger: JournalOpener
    ) -> list[Posting]:
        """Give each line its journal (opened through ``ledger`` when needed) and line number,
        persisted before anything is sent."""
        ...

    async def close_journal(self, batch_number: str) -> None:
        """The journal was posted in the ledger: later lines of its day need a new one."""
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


# ---- customer and token sync ---------------------------------------------------------------


@dataclass(frozen=True)
class ErpCustomer:
    """A customer as the ERP holds it, with the raw row the sync templates read and compare."""

    account: str
    gateway_id: str
    """The gateway (PayTrace) customer id on the customer; empty when none."""
    flagged: bool
    """Flagged for sync."""
    on_hold: str
    """The ERP's block status (``No``, ``Invoice``, ``All``, ...)."""
    auto_pay: bool
    row: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayProfile:
    """A gateway customer profile (a token on file), never with card data."""

    customer_id: str
    customer: Customer
    """The profile as a canonical customer (name, contact, billing address, its id)."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Current values, flat (``billing_address.city``), in the profile template's shape."""
    masked_card: str = ""


class CustomerDirectory(Protocol):
    """The ERP's customers as the customer sync sees them."""

    async def customers_in_scope(self) -> list[ErpCustomer]:
        """Customers flagged for sync or carrying a gateway customer id."""
        ...

    async def customer(self, account: str) -> ErpCustomer | None: ...

    async def update_customer(self, account: str, changes: Mapping[str, Any]) -> None: ...

    async def create_customer(self, record: Mapping[str, Any], gateway_id: str) -> str:
        """Create a customer (exactly once per ``gateway_id``); returns its account."""
        ...

    async def disable_auto_pay(self, account: str) -> None: ...


class CustomerVault(Protocol):
    """The gateway's customer profiles (its token vault)."""

    async def profiles(self) -> list[GatewayProfile]: ...

    async def update_profile(self, profile: GatewayProfile, changes: Mapping[str, Any]) -> None:
        """Write flat ``changes`` (``billing_address.city``, ``discretionary_data.<title>``)."""
        ...

    async def stop_recurring(self, customer_id: str) -> int:
        """Stop the profile's recurring payments; returns how many were active."""
        ...
