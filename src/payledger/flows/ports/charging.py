"""Charging: the card gateway, the ERP's receivables, the records of payments payledger made
(with the ledger events that post them) and auto-pay's charge attempts.

The request/reply API and D365 business events both charge through
:mod:`payledger.flows.charge_payment`; the types are in :mod:`payledger.domain.charges`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

from payledger.domain.charges import (
    CardOnFile,
    CardSource,
    ChargeRecord,
    ChargeReferences,
    PaymentEvent,
    Receivable,
    ReceivableKind,
)
from payledger.domain.model import Payment
from payledger.domain.money import Money


class CardGateway(Protocol):
    """The payment gateway's money-moving calls, answered synchronously.

    Each returns the canonical :class:`Payment` as the gateway's own reporting will later show
    it (same transaction, kind and state), declines included. A lost answer is looked up before
    anything is resent.

    Raises:
        RejectedError: the gateway refused the request (message says why, for a person).
        AmbiguousOutcome: the answer was lost and the lookup could not settle it.
        TransientError: the gateway surely did not act; try again later.
    """

    source_name: str
    """The inbox source its payments are recorded under (the poller's)."""
    currency: str
    """The one currency the merchant account charges in."""

    async def charge(
        self,
        amount: Money,
        card: CardSource,
        *,
        capture: bool,
        refs: ChargeReferences,
        request: Mapping[str, Any],
    ) -> Payment:
        """A sale (``capture``) or authorization of ``amount``: ``request`` holds its business
        fields as the charge request template mapped them (see ``flows.charge_request``); the
        gateway adds the payment method (``card``) and nothing else."""
        ...

    async def capture(self, original: ChargeRecord, amount: Money) -> Payment: ...

    async def void(self, original: ChargeRecord) -> Payment: ...

    async def refund(self, original: ChargeRecord, amount: Money) -> Payment: ...

    async def find_refund(
        self, original: ChargeRecord, amount: Money, since: datetime
    ) -> Payment | None:
        """A refund of ``amount`` of ``original`` made since ``since`` (to finish a refund
        that was cut off after the gateway may have acted), or None."""
        ...

    async def find_charge(self, refs: ChargeReferences, since: datetime) -> Payment | None:
        """A charge made since ``since`` for ``refs.invoice_number`` (to finish an attempt that
        was cut off after the gateway may have acted), or None."""
        ...

    def event_id(self, payment: Payment) -> str:
        """The inbox key the gateway's poller gives ``payment`` (so it is stored once)."""
        ...


class ErpRows(Protocol):
    """The ERP's own rows that mapping templates read under ``enrich``."""

    async def erp_rows(
        self,
        needs: Collection[str],
        *,
        customer_account: str = "",
        sales_order_number: str = "",
        invoice_number: str = "",
    ) -> dict[str, Mapping[str, Any]]:
        """The rows named in ``needs`` (``d365_customer`` by ``customer_account``,
        ``d365_order`` by ``sales_order_number``, ``d365_invoice`` by ``invoice_number``);
        a row without its key, or that does not exist, is left out."""
        ...


class Receivables(ErpRows, Protocol):
    """Invoices, sales orders and customers in the ERP."""

    async def invoice(self, number: str) -> Receivable | None: ...

    async def sales_order(self, number: str) -> Receivable | None: ...

    async def card_on_file(self, customer_account: str) -> CardOnFile | None: ...


class ChargeRecords(Protocol):
    """Payments made through payledger, and the event that posts each one to the ledger."""

    async def get(self, gateway_txn_id: str) -> ChargeRecord | None: ...

    async def hold(self, kind: ReceivableKind, number: str) -> bool:
        """Hold the receivable for one charge; False while another holds it. A hold left by a
        crashed process lapses after a few minutes."""
        ...

    async def release(self, kind: ReceivableKind, number: str) -> None: ...

    async def for_receivable(self, kind: ReceivableKind, number: str) -> list[ChargeRecord]: ...

    async def save(
        self, record: ChargeRecord, *, event: PaymentEvent, actor: str, action: str
    ) -> None:
        """Store ``record`` (new, or the new state of an existing one), its inbox event with
        the job that posts it, and an audit entry, all in one transaction."""
        ...

    async def save_refund(
        self, refund: ChargeRecord, *, event: PaymentEvent, actor: str
    ) -> ChargeRecord:
        """Like :meth:`save` for a refund; an approved one is added to its original's refunded
        amount in the same transaction. Returns the original as it is now."""
        ...


class ChargeAttempts(Protocol):
    """Remembers that a charge was started, durably, before the gateway is called."""

    async def start(self) -> bool:
        """Record that a charge is starting; True if an earlier attempt had already started."""
        ...
