"""Charging a receivable (an ERP invoice or sales order) with a card: what is being paid,
how the card is given (never as a number), and what was done."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from payledger.domain.model import Payment, PaymentKind
from payledger.domain.money import Money


@dataclass(frozen=True)
class StoredCard:
    """The card on file of a gateway customer (at PayTrace, a customer profile)."""

    customer_id: str


@dataclass(frozen=True)
class ProtectCard:
    """A card captured by PayTrace Protect in the browser: a one-time token and key."""

    hpf_token: str
    enc_key: str


@dataclass(frozen=True)
class EncryptedCard:
    """A card number (and CSC) encrypted client-side with PayTrace's key."""

    encrypted_number: str
    expiration_month: int
    expiration_year: int
    encrypted_csc: str = ""


CardSource = StoredCard | ProtectCard | EncryptedCard


class ReceivableKind(StrEnum):
    INVOICE = "invoice"
    SALES_ORDER = "sales_order"


@dataclass(frozen=True)
class Receivable:
    """An invoice or sales order in the ERP, with what the ERP already shows as paid."""

    kind: ReceivableKind
    number: str
    customer_account: str
    total: Money
    paid_in_ledger: dict[str, Money] = field(default_factory=dict)
    """Net amounts the ledger holds against it, by gateway transaction id (or line key)."""
    sales_order_number: str = ""
    """The invoice's sales order (for an invoice), or the order itself."""
    order_paid: Money | None = None
    """For an invoice of a sales order marked paid or authorized in the ERP: that payment
    (e.g. taken at checkout), so invoicing the order does not charge it again."""
    erp_rows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The ERP's own rows it was read from, by the name templates give them under ``needs``
    (``d365_invoice``, ``d365_order``), so a charge's request reads them without asking again."""


@dataclass(frozen=True)
class CardOnFile:
    """What the ERP says about charging a customer automatically."""

    gateway_customer_id: str
    auto_pay: bool


class PaymentState(StrEnum):
    """Where a payment made through payledger stands."""

    APPROVED = "approved"
    """A sale: the money was taken."""
    AUTHORIZED = "authorized"
    """An authorization: capture it to take the money."""
    CAPTURED = "captured"
    DECLINED = "declined"
    VOIDED = "voided"
    REFUNDED = "refunded"
    """Fully refunded (a partial refund keeps ``approved`` or ``captured``)."""


@dataclass(frozen=True)
class ChargeRecord:
    """A payment payledger made (or a refund of one), as it stands now."""

    gateway_txn_id: str
    client: str
    kind: PaymentKind
    """sale, authorization or refund."""
    state: PaymentState
    amount: Money
    captured: Money
    refunded: Money
    created_at: datetime
    original_txn_id: str = ""
    invoice_number: str = ""
    sales_order_number: str = ""
    customer_account: str = ""
    response_code: str = ""
    approval_code: str = ""
    masked_card: str = ""
    message: str = ""

    @property
    def collected(self) -> Money:
        """What this payment holds against its receivable now (0 when declined or voided)."""
        if self.state in (PaymentState.DECLINED, PaymentState.VOIDED):
            return Money.zero(self.amount.currency)
        if self.kind is PaymentKind.AUTHORIZATION and self.state is PaymentState.AUTHORIZED:
            return self.amount  # promised: counted so the same receivable is not charged twice
        taken = self.captured if self.kind is PaymentKind.AUTHORIZATION else self.amount
        return taken - self.refunded


@dataclass(frozen=True)
class ChargeReferences:
    """What a gateway transaction carries back to the ERP."""

    customer_account: str
    invoice_number: str = ""
    sales_order_number: str = ""


@dataclass(frozen=True)
class PaymentEvent:
    """A gateway payment to post, under the key its own reporting would give it."""

    source: str
    event_id: str
    payment: Payment


def open_amount(receivable: Receivable, made_here: list[ChargeRecord]) -> Money:
    """What is still owed: the total less the ledger's payments and payledger's own, counting
    each gateway transaction once (payledger's record wins: it is never behind the ledger)."""
    paid = dict(receivable.paid_in_ledger)
    for record in made_here:
        paid[record.gateway_txn_id] = (
            Money.zero(record.amount.currency)
            if record.kind is PaymentKind.REFUND  # already netted in its original
            else record.collected
        )
    if receivable.order_paid is not None and not any(
        r.sales_order_number == receivable.sales_order_number for r in made_here
    ):
        paid[f"order:{receivable.sales_order_number}"] = receivable.order_paid
    remaining = receivable.total
    for amount in paid.values():
        remaining = remaining - amount
    return max(remaining, Money.zero(remaining.currency), key=lambda m: m.amount)


def refundable(record: ChargeRecord) -> Money:
    """What is left to refund: of an approved sale, or of a captured authorization."""
    if record.kind is PaymentKind.SALE and record.state is PaymentState.APPROVED:
        return record.amount - record.refunded
    if record.kind is PaymentKind.AUTHORIZATION and record.state is PaymentState.CAPTURED:
        return record.captured - record.refunded
    return Money.zero(record.amount.currency)
