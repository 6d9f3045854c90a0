"""The ports flows depend on; adapters implement them, ``bootstrap`` wires them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from payledger.domain.charges import CardSource
from payledger.domain.events import DeliveryRecorded, PaymentHinted, PaymentObserved, Recorded
from payledger.domain.model import Customer, Payment
from payledger.domain.posting import DayJournal, Posting
from payledger.domain.shop_orders import ErpReferences, ShopOrder, ShopOrderRecord


class PaymentSource(Protocol):
    """Where payments are observed (the gateway's reporting API)."""

    name: str
    """The inbox source name, e.g. ``"paytrace"``."""

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        """Payments created or changed between two instants (a superset is fine)."""
        ...


class DailyPaymentSource(Protocol):
    """Where the payments of past days are read, a gateway-local day at a time (backfill)."""

    name: str
    """The inbox source name; the same as the poller's, so both store one event once."""

    async def observed_on(self, day: date) -> list[PaymentObserved]:
        """Every payment created on ``day`` (the gateway's own calendar), as it stands now."""
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
    """Signed deliveries already received (the replay defence), and the inbox their hints go to."""

    async def known_fingerprint(self, delivery_id: str) -> str | None:
        """The body fingerprint ``delivery_id`` is known, without a round trip, to have arrived
        with before; None does not prove it new (``record`` decides)."""
        ...

    async def record(self, hint: PaymentHinted, fingerprint: str) -> DeliveryRecorded:
        """Remember the delivery and store its hint in the inbox, with the job that fetches the
        hinted payment, in one transaction; a delivery id stored before stores nothing and
        reports its ``earlier_fingerprint``."""
        ...


class HintedPayments(Protocol):
    """Where the payment fetched for a stored hint goes, and how the hint ends."""

    async def fetched(self, hint_id: int, source: str, event: PaymentObserved) -> bool:
        """Store ``event`` in the inbox as the poller would (same key, so a payment seen by
        both is one event) and mark the hint processed, in one transaction; True if the
        payment state was new.

        Raises:
            CardDataRejected: the payment holds card data; nothing is stored.
        """
        ...

    async def park(self, hint_id: int, error: str) -> None:
        """The hint cannot be acted on: mark it parked with ``error``, for a human."""
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

    async def claim(
        self, company: str, limit: int, *, retake_sending: bool = True
    ) -> list[Posting]:
        """Move up to ``limit`` owed postings of ``company`` to sending, oldest first; with
        ``retake_sending``, also those a dead flush left sending (returned as unknown)."""
        ...

    async def open_journal_numbers(self, company: str) -> set[str]:
        """Batch numbers of the journals of ``company`` not closed."""
        ...

    async def latest_journal(
        self, company: str, business_day: str, currency: str, journal_name: str
    ) -> DayJournal | None:
        """The last generation of the day's journal in ``currency``, if there is one."""
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
        numbered it) is left as it is and left out."""
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


class CustomerProfiles(Protocol):
    """The gateway's customer profiles: the cards and bank accounts it keeps on file."""

    async def profiles(self) -> list[GatewayProfile]: ...

    async def update_profile(self, profile: GatewayProfile, changes: Mapping[str, Any]) -> None:
        """Write flat ``changes`` (``billing_address.city``, ``discretionary_data.<title>``)."""
        ...

    async def stop_recurring(self, customer_id: str) -> int:
        """Stop the profile's recurring payments; returns how many were active."""
        ...


# ---- shop orders (order to cash) -----------------------------------------------------------


@dataclass(frozen=True)
class ErpOrder:
    """A sales order as the ERP holds it."""

    number: str
    customer_account: str
    line_numbers: frozenset[int] = frozenset()
    """Line numbers it already has (lines are added once each)."""


class SalesDesk(Protocol):
    """The ERP's customers and sales orders as order to cash sees them."""

    async def customer(self, account: str) -> ErpCustomer | None: ...

    async def customer_with_gateway_id(self, gateway_id: str) -> ErpCustomer | None: ...

    async def customer_with_email(self, email: str) -> ErpCustomer | None: ...

    async def create_customer(self, record: Mapping[str, Any], *, email: str) -> str:
        """Create a customer (exactly once per e-mail address); returns its account."""
        ...

    async def set_gateway_id(self, account: str, gateway_id: str) -> None:
        """Write the gateway customer id (the token) to the customer."""
        ...

    async def order(self, reference: str) -> ErpOrder | None:
        """The sales order whose customer's order reference is ``reference``."""
        ...

    async def create_order(self, header: Mapping[str, Any]) -> str:
        """Create a sales order header (exactly once per order reference); returns its number."""
        ...

    async def add_order_lines(self, lines: Sequence[Mapping[str, Any]]) -> None:
        """Add lines to an order, all or none."""
        ...

    async def update_order_payment(self, number: str, header: Mapping[str, Any]) -> None:
        """Write the payment fields of a mapped ``header`` to an existing order."""
        ...


class ShopOrderStore(Protocol):
    """Shop orders as payledger keeps them (see ``stores.shop_orders``)."""

    async def claim(self, order: ShopOrder, *, client: str) -> ShopOrderRecord | None:
        """None when API ``client`` may charge now; else the order as it stands (which may
        be another client's order under the same id; a declined order is claimed again only
        by its own client)."""
        ...

    async def release(self, reference: str) -> None: ...

    async def take_over(self, reference: str, *, stale_before: datetime) -> datetime | None:
        """Take over an order claimed for charging before ``stale_before``; returns when it
        was claimed, or None when it is not that stale (someone is still charging it)."""
        ...

    async def declined(self, record: ShopOrderRecord) -> None: ...

    async def accepted(
        self,
        record: ShopOrderRecord,
        event: PaymentObserved | None,
        *,
        source: str,
        run_at: datetime,
    ) -> ShopOrderRecord:
        """Store the charged order, the job that completes it, and the payment's event."""
        ...

    async def get(self, reference: str) -> ShopOrderRecord | None: ...

    async def completed(
        self,
        record: ShopOrderRecord,
        erp: ErpReferences,
        *,
        event_fields: Mapping[str, str],
        inline: bool,
    ) -> ShopOrderRecord: ...

    async def failed(self, record: ShopOrderRecord, error: str) -> None:
        """Park a paid order (pending or failed before) with the reason it is not in the ERP."""
        ...


class OperatorAlerts(Protocol):
    """The operators' alert centre (``payledger.alerts.AlertCenter`` fits): occurrences of
    one ``key`` are sent together, with their count."""

    async def notify(
        self,
        key: str,
        title: str,
        text: str,
        *,
        severity: str = "warning",
        facts: Mapping[str, object] | None = None,
    ) -> None: ...


class OrderGateway(Protocol):
    """The payment gateway charging a shop order's card.

    Raises:
        RejectedError: the gateway refused the request (unknown customer profile, bad card data).
        AmbiguousOutcome: the answer was lost and the lookup could not settle it.
        TransientError: the gateway surely did not act; try again later.
    """

    source_name: str
    """The inbox source its payments are recorded under (the poller's)."""

    async def charge_order(
        self, order: ShopOrder, card: CardSource, *, capture: bool
    ) -> PaymentObserved:
        """A sale (``capture``) or an authorization of the order's total; a decline is an
        answer, not an error. The event id is the one the gateway's poller gives it."""
        ...

    async def find_order_charge(self, order: ShopOrder, since: datetime) -> PaymentObserved | None:
        """The order's latest sale or authorization made since ``since`` (found by its order
        id and total), or None."""
        ...
