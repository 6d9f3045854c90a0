"""The canonical, vendor-free model of what payledger moves between the gateway and the ERP.

Adapters translate PayTrace and Dynamics 365 records into these types and back; flows and
domain rules see nothing else. Times are aware UTC; money is :class:`Money`; no type here can
hold a card number (tokens carry only a vault id and a masked number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from payledger.domain.errors import DomainError
from payledger.domain.money import Money


def aware_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is a bug and is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(f"datetime {moment.isoformat()} has no timezone")
    return moment.astimezone(UTC)


class PaymentKind(StrEnum):
    SALE = "sale"
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"
    ACH_SALE = "ach_sale"
    ACH_REFUND = "ach_refund"

    @property
    def moves_money_in(self) -> bool:
        return self in {PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.ACH_SALE}

    @property
    def moves_money_out(self) -> bool:
        return self in {PaymentKind.REFUND, PaymentKind.ACH_REFUND}


class PaymentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    VOIDED = "voided"
    SETTLED = "settled"
    FAILED = "failed"


class Outcome(StrEnum):
    """What a gateway answer means for the business."""

    APPROVED = "approved"
    SOFT_DECLINE = "soft_decline"
    """Declined for a reason that may pass later (insufficient funds, issuer unavailable)."""
    HARD_DECLINE = "hard_decline"
    """Declined for good (stolen card, closed account): do not retry."""
    ERROR = "error"
    """The request itself was wrong (validation, state): fix it, do not retry as is."""


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class PaymentToken:
    """A way to charge a customer again without ever holding the card number."""

    vault_customer_id: str
    masked_card: str = ""
    card_type: str = ""
    expires: str = ""

    def __post_init__(self) -> None:
        visible_digits = sum(ch.isdigit() for ch in self.masked_card)
        if visible_digits > 10:
            raise DomainError("a payment token holds a masked card number only")


@dataclass(frozen=True, slots=True)
class Customer:
    """A payer known to the gateway, the ERP, or both."""

    name: str
    account: str = ""
    """The ERP customer account, when known."""
    gateway_customer_id: str = ""
    email: str = ""
    phone: str = ""
    billing_address: Address = field(default_factory=Address)
    is_organization: bool = False


@dataclass(frozen=True, slots=True)
class Payment:
    """One gateway transaction as the business sees it."""

    gateway_txn_id: str
    kind: PaymentKind
    status: PaymentStatus
    amount: Money
    occurred_at: datetime
    outcome: Outcome = Outcome.APPROVED
    response_code: str = ""
    message: str = ""
    original_txn_id: str = ""
    """The transaction this one captures, refunds or voids."""
    customer: Customer | None = None
    token: PaymentToken | None = None
    order_ref: str = ""
    invoice_ref: str = ""
    batch_number: str = ""
    auth_code: str = ""
    custom_fields: dict[str, str] = field(default_factory=dict)
    recurring: bool = False
    """Made by the gateway's own recurring schedule, not by a request of payledger's."""
    avs_result: str = ""
    """The gateway's address check (AVS) answer as given, when it gave one."""
    csc_result: str = ""
    """The gateway's card security code check answer as given, when it gave one."""
    ip_address: str = ""
    """Where the request came from, when the gateway says."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "occurred_at", aware_utc(self.occurred_at))
        if self.amount.amount < 0:
            raise DomainError(f"payment {self.gateway_txn_id} has a negative amount")

    @property
    def is_approved(self) -> bool:
        return self.outcome is Outcome.APPROVED

    @property
    def root_txn_id(self) -> str:
        """The transaction this one belongs to: its original (for captures, refunds, voids)."""
        return self.original_txn_id or self.gateway_txn_id


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_number: str
    quantity: int
    unit_price: Money
    description: str = ""

    @property
    def total(self) -> Money:
        return Money(self.unit_price.amount * self.quantity, self.unit_price.currency)


@dataclass(frozen=True, slots=True)
class Order:
    """A sales order, identified by the shop's reference and, once created, the ERP number."""

    reference: str
    customer: Customer
    lines: tuple[OrderLine, ...]
    currency: str
    number: str = ""
    payment_status: str = ""
    delivery_address: Address | None = None
    """Where the goods go, when not to the customer's own address."""

    @property
    def total(self) -> Money:
        total = Money.zero(self.currency)
        for line in self.lines:
            total = total + line.total
        return total


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    customer_account: str
    amount: Money
    open_amount: Money
    due: date | None = None
    order_number: str = ""


@dataclass(frozen=True, slots=True)
class SettlementBatch:
    """A gateway settlement batch: what the processor paid out for one day's transactions."""

    number: str
    settled_at: datetime
    net: Money
    transaction_count: int
    sales: Money
    refunds: Money
    fees: Money | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "settled_at", aware_utc(self.settled_at))
