"""What the sandbox remembers: transactions, checks, customers, batches, recurrences, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from payledger.sandbox.paytrace.cards import Card


class TxnType(StrEnum):
    SALE = "SALE"
    AUTHORIZATION = "AUTHORIZATION"
    REFUND = "REFUND"


class TxnStatus(StrEnum):
    """Where a card transaction stands; exported as ``status_code`` (a sandbox convention)."""

    DECLINED = "DECLINED"
    AUTHORIZED = "AUTHORIZED"
    """Approved authorization, not captured."""
    PENDING = "PENDING"
    """Sale, captured authorization or refund waiting for the batch to close."""
    SETTLED = "SETTLED"
    VOIDED = "VOIDED"


STATUS_TEXT = {
    TxnStatus.DECLINED: "Declined",
    TxnStatus.AUTHORIZED: "Authorized, not captured",
    TxnStatus.PENDING: "Pending settlement",
    TxnStatus.SETTLED: "Settled",
    TxnStatus.VOIDED: "Voided",
}


@dataclass
class Origin:
    """Who made a record, how and when (export ``created``)."""

    at: datetime
    by: str
    through: str = "API"
    from_ip: str = "127.0.0.1"


@dataclass
class Transaction:
    transaction_id: int
    type: TxnType
    status: TxnStatus
    amount: Decimal
    original_amount: Decimal
    card: Card
    created: Origin
    approval_code: str = ""
    approval_message: str = ""
    avs_response: str = ""
    csc_response: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    """Echoed request fields: invoice_id, description, addresses, email, tax_amount, ..."""
    discretionary_data: dict[str, str] = field(default_factory=dict)
    customer_id: str = ""
    original_transaction_id: int | None = None
    refunded: Decimal = Decimal("0.00")
    settled_at: datetime | None = None
    batch_number: int | None = None
    receipt_emailed_to: str = ""
    level_three: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_pending_settlement(self) -> bool:
        return self.status in (TxnStatus.AUTHORIZED, TxnStatus.PENDING)


class CheckStatus(StrEnum):
    """Where a check stands; exported as ``status_code`` (a sandbox convention, like cards)."""

    HELD = "HELD"
    PENDING = "PENDING"
    SETTLED = "SETTLED"
    VOIDED = "VOIDED"
    DECLINED = "DECLINED"


CHECK_STATUS_TEXT = {
    CheckStatus.HELD: "Held, not funded",
    CheckStatus.PENDING: "Pending settlement",
    CheckStatus.SETTLED: "Settled",
    CheckStatus.VOIDED: "Voided",
    CheckStatus.DECLINED: "Not processed",
}


@dataclass
class BankAccount:
    account_number: str
    routing_number: str

    @property
    def masked(self) -> str:
        return "x" * max(len(self.account_number) - 4, 0) + self.account_number[-4:]


@dataclass
class CheckTransaction:
    check_transaction_id: int
    kind: str
    """``sale``, ``hold`` or ``refund``."""
    status: CheckStatus
    amount: Decimal
    account: BankAccount
    created: Origin
    customer_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    discretionary_data: dict[str, str] = field(default_factory=dict)
    original_check_id: int | None = None
    refunded: Decimal = Decimal("0.00")
    settled_at: datetime | None = None


@dataclass
class CustomerProfile:
    customer_id: str
    created: Origin
    card: Card | None = None
    account: BankAccount | None = None
    billing_address: dict[str, str] = field(default_factory=dict)
    shipping_address: dict[str, str] = field(default_factory=dict)
    email: str = ""
    phone: str = ""
    fax: str = ""
    discretionary_data: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.billing_address.get("name", "")


@dataclass
class Batch:
    batch_number: int
    closed_at: datetime
    transaction_ids: list[int]
    sales_count: int
    sales_amount: Decimal
    refund_count: int
    refund_amount: Decimal
    by_brand: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def net_amount(self) -> Decimal:
        return self.sales_amount - self.refund_amount


@dataclass
class Recurrence:
    recurrence_id: int
    customer_id: str
    amount: Decimal
    frequency: str
    start_date: date
    total_count: int
    transaction_type: str
    description: str = ""
    customer_receipt: bool = False
    next_date: date | None = None
    runs: int = 0
    transaction_ids: list[int] = field(default_factory=list)
    active: bool = True


@dataclass
class AccessToken:
    value: str
    user: str
    issued_at: datetime
    expires_at: datetime
