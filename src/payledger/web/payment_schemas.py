"""Request and response bodies of ``/api/v1/payments`` (the OpenAPI document is built from them).

A card is never sent as a number: only a PayTrace vault customer id, a PayTrace Protect token
(``hpf_token`` + ``enc_key``) or a number encrypted client-side with PayTrace's key. A body
that carries a card number anyway is refused with 422 before anything reads it.

Amounts are exact (:data:`~payledger.web.inbound.PositiveAmount`: ``"25.50"``, or a JSON
number read exactly by the route) and booleans are JSON ``true``/``false`` only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from payledger.domain.charges import (
    CardSource,
    ChargeRecord,
    EncryptedCard,
    PaymentState,
    ProtectCard,
    StoredCard,
)
from payledger.domain.money import Money
from payledger.flows.ports.risk import ReviewItem
from payledger.flows.screen_charge import is_made
from payledger.flows.screen_refund import refund_status
from payledger.web.inbound import PositiveAmount

DocumentNumber = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._/-]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VaultCustomerMethod(_Body):
    """The card on file of a PayTrace vault customer."""

    type: Literal["vault_customer"]
    customer_id: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9._@-]+$")


class ProtectMethod(_Body):
    """A card captured by PayTrace Protect.js in the browser."""

    type: Literal["protect"]
    hpf_token: str = Field(min_length=1, max_length=4096)
    enc_key: str = Field(min_length=1, max_length=4096)


class EncryptedCardMethod(_Body):
    """A card number (and optionally CSC) encrypted client-side with PayTrace's public key."""

    type: Literal["encrypted_card"]
    encrypted_number: str = Field(min_length=1, max_length=4096)
    expiration_month: int = Field(ge=1, le=12)
    expiration_year: int = Field(ge=2000, le=2099)
    encrypted_csc: str | None = Field(default=None, min_length=1, max_length=4096)


PaymentMethod = Annotated[
    VaultCustomerMethod | ProtectMethod | EncryptedCardMethod, Field(discriminator="type")
]


def card_source(method: VaultCustomerMethod | ProtectMethod | EncryptedCardMethod) -> CardSource:
    if isinstance(method, VaultCustomerMethod):
        return StoredCard(method.customer_id)
    if isinstance(method, ProtectMethod):
        return ProtectCard(method.hpf_token, method.enc_key)
    return EncryptedCard(
        method.encrypted_number,
        method.expiration_month,
        method.expiration_year,
        method.encrypted_csc or "",
    )


class PaymentCreate(_Body):
    """Charge one D365 invoice or sales order (exactly one of ``invoice``, ``sales_order``)."""

    invoice: DocumentNumber | None = None
    """A posted sales invoice number, e.g. ``CIV-000817``."""
    sales_order: DocumentNumber | None = None
    """A sales order number, e.g. ``SO-001261``."""
    amount: PositiveAmount | None = None
    """Default: the amount still open on the invoice or order."""
    currency: Currency | None = None
    """Optional check: must be the invoice's or order's currency."""
    capture: StrictBool = True
    """``false``: authorize only; capture later with ``POST /api/v1/payments/{id}/capture``."""
    payment_method: PaymentMethod
    dunning: StrictBool = False
    """``true``: a decline opens a dunning case that retries the invoice's open amount on the
    card on file (needs ``invoice``, a ``vault_customer`` payment method, no ``amount``, and
    ``capture``)."""

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.invoice is None) == (self.sales_order is None):
            raise ValueError("give exactly one of 'invoice' and 'sales_order'")
        return self

    def dunning_refusal(self) -> str | None:
        """Why ``dunning`` cannot be asked for with this charge, if it cannot."""
        if not self.dunning:
            return None
        if self.invoice is None:
            return "'dunning' retries invoices only: give 'invoice', not 'sales_order'"
        if not isinstance(self.payment_method, VaultCustomerMethod):
            return "'dunning' retries a card on file: the payment method must be 'vault_customer'"
        if self.amount is not None:
            return "'dunning' retries the invoice's open amount: leave out 'amount'"
        if not self.capture:
            return "'dunning' retries sales: leave out 'capture: false'"
        return None


class AmountChange(_Body):
    """How much to capture or refund (default: all that is left)."""

    amount: PositiveAmount | None = None


class RefundReviewPublic(BaseModel):
    """A refund of this payment that was held for risk review, and where it stands."""

    review_id: int
    status: Literal["held", "approved", "refunded", "rejected"]
    """``held``: waits for an operator; ``approved``: being refunded; ``refunded``: made
    (``refund_id``); ``rejected``: never refunded."""
    amount: Decimal
    currency: str
    refund_id: str | None
    """The refund's PayTrace transaction id, once refunded."""
    requested_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, item: ReviewItem) -> RefundReviewPublic:
        return cls(
            review_id=item.id,
            status=refund_status(item).value,
            amount=item.amount.amount,
            currency=item.amount.currency,
            refund_id=item.transaction_id if is_made(item) else None,
            requested_at=item.created_at,
            decided_at=item.decided_at,
        )


class ApiPaymentPublic(BaseModel):
    """A payment made through payledger, as it stands now."""

    id: str = Field(description="The PayTrace transaction id.")
    kind: Literal["sale", "authorization", "refund"]
    status: PaymentState
    approved: bool
    """False when the card was declined (see ``message`` for the reason)."""
    amount: Decimal
    currency: str
    captured_amount: Decimal
    refunded_amount: Decimal
    message: str
    """What the gateway said, for a person (the decline reason when declined)."""
    response_code: str
    approval_code: str
    masked_card: str
    invoice: str | None
    sales_order: str | None
    customer_account: str
    original_id: str | None
    """For a refund: the payment it refunds."""
    created_at: datetime
    refund_reviews: list[RefundReviewPublic] = Field(default_factory=list)
    """Refunds of this payment held for risk review (listed by ``GET``; empty elsewhere)."""

    @classmethod
    def of(cls, record: ChargeRecord) -> ApiPaymentPublic:
        return cls(
            id=record.gateway_txn_id,
            kind=record.kind.value,
            status=record.state,
            approved=record.state is not PaymentState.DECLINED,
            amount=record.amount.amount,
            currency=record.amount.currency,
            captured_amount=record.captured.amount,
            refunded_amount=record.refunded.amount,
            message=record.message,
            response_code=record.response_code,
            approval_code=record.approval_code,
            masked_card=record.masked_card,
            invoice=record.invoice_number or None,
            sales_order=record.sales_order_number or None,
            customer_account=record.customer_account,
            original_id=record.original_txn_id or None,
            created_at=record.created_at,
        )


class RefundPublic(BaseModel):
    """A refund, and the payment it refunds as it stands after it."""

    refund: ApiPaymentPublic
    payment: ApiPaymentPublic


class RefundHeldPublic(BaseModel):
    """A refund held for risk review (``202``): nothing was refunded yet. The refund is made
    once an operator approves it; ``GET /api/v1/payments/{payment_id}`` shows where it
    stands (``refund_reviews``)."""

    status: Literal["held_for_review"]
    review_id: int
    payment_id: str
    amount: Decimal
    currency: str
    detail: str

    @classmethod
    def of(cls, item: ReviewItem, payment_id: str) -> RefundHeldPublic:
        return cls(
            status="held_for_review",
            review_id=item.id,
            payment_id=payment_id,
            amount=item.amount.amount,
            currency=item.amount.currency,
            detail=f"the refund scored {item.score:.2f} in risk screening and waits for an "
            "operator's review; it is made once approved, never if rejected",
        )


def money(amount: Decimal | None, currency: str) -> Money | None:
    return Money(amount, currency) if amount is not None else None
