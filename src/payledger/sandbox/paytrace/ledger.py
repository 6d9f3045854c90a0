"""The card transaction state machine (fact sheet §9).

``AUTHORIZED`` → capture → ``PENDING`` → settle → ``SETTLED``; a sale starts ``PENDING``.
Void only while pending settlement (else 818); capture only an uncaptured approved
authorization (else 816) for at most its amount; refund only a settled sale or capture
(else 817), never above what is left; adjust only an unsettled authorization or refund, to at
most 130 % of the original. Every function takes the moment ``at`` it happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from payledger.sandbox.paytrace import cards, messages
from payledger.sandbox.paytrace.cards import Card
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import Transaction, TxnStatus, TxnType
from payledger.sandbox.paytrace.state import SandboxState

ADJUST_LIMIT = Decimal("1.3")


@dataclass
class Charge:
    """What a sale, authorization or keyed refund asks for."""

    type: TxnType
    amount: Decimal
    card: Card
    csc: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    discretionary_data: dict[str, str] = field(default_factory=dict)
    customer_id: str = ""
    through: str = "API"
    from_ip: str = ""
    original_transaction_id: int | None = None


def charge(state: SandboxState, at: datetime, request: Charge) -> Transaction:
    """Approve or decline a new transaction; declines are recorded too, with their own id."""
    billing = request.details.get("billing_address", {})
    avs = cards.avs_response(billing, state.settings.address_on_file)
    decline = None
    if request.type is not TxnType.REFUND:
        decline = cards.customer_decline(
            state.customer_declines, request.customer_id
        ) or cards.decline_text(request.amount, state.settings)
    approval_code = "" if decline else state.approval_code()
    status = _initial_status(request.type, declined=decline is not None)
    txn = Transaction(
        transaction_id=state.next_transaction_id(),
        type=request.type,
        status=status,
        amount=request.amount,
        original_amount=request.amount,
        card=request.card,
        created=state.origin(at, through=request.through, from_ip=request.from_ip),
        approval_code=approval_code,
        approval_message=decline or cards.approval_message(avs, approval_code),
        avs_response=avs,
        csc_response=cards.csc_response(request.card, request.csc),
        details=dict(request.details),
        discretionary_data=dict(request.discretionary_data),
        customer_id=request.customer_id,
        original_transaction_id=request.original_transaction_id,
    )
    state.transactions[txn.transaction_id] = txn
    state.record("transaction.created", txn.transaction_id, at)
    return txn


def _initial_status(txn_type: TxnType, *, declined: bool) -> TxnStatus:
    if declined:
        return TxnStatus.DECLINED
    return TxnStatus.AUTHORIZED if txn_type is TxnType.AUTHORIZATION else TxnStatus.PENDING


def capture(
    state: SandboxState, at: datetime, transaction_id: int, amount: Decimal | None
) -> Transaction:
    txn = state.transaction(transaction_id)
    if txn.type is not TxnType.AUTHORIZATION or txn.status is not TxnStatus.AUTHORIZED:
        raise VendorErrors.of(messages.NOT_CAPTURABLE)
    if amount is not None and amount > txn.amount:
        raise VendorErrors.of(messages.AMOUNT_TOO_HIGH)
    txn.amount = amount or txn.amount
    txn.status = TxnStatus.PENDING
    state.record("transaction.captured", txn.transaction_id, at)
    return txn


def void(state: SandboxState, at: datetime, transaction_id: int) -> Transaction:
    txn = state.transaction(transaction_id)
    if not txn.is_pending_settlement:
        raise VendorErrors.of(messages.NOT_VOIDABLE)
    txn.status = TxnStatus.VOIDED
    if txn.type is TxnType.REFUND and txn.original_transaction_id is not None:
        state.transactions[txn.original_transaction_id].refunded -= txn.amount
    state.record("transaction.voided", txn.transaction_id, at)
    return txn


def refundable_amount(txn: Transaction) -> Decimal:
    """What is left to refund of a settled sale or capture; zero for anything else."""
    if txn.type is TxnType.REFUND or txn.status is not TxnStatus.SETTLED:
        return Decimal("0.00")
    return txn.amount - txn.refunded


def refund(
    state: SandboxState,
    at: datetime,
    transaction_id: int,
    amount: Decimal | None,
    details: dict[str, Any] | None = None,
    from_ip: str = "",
    discretionary_data: dict[str, str] | None = None,
) -> Transaction:
    """Refund (part of) a settled transaction as a new ``REFUND`` transaction."""
    original = state.transaction(transaction_id)
    if original.type is TxnType.REFUND or original.status is not TxnStatus.SETTLED:
        raise VendorErrors.of(messages.NOT_REFUNDABLE)
    remaining = refundable_amount(original)
    amount = amount or remaining
    if amount > remaining or remaining <= 0:
        raise VendorErrors.of(messages.AMOUNT_TOO_HIGH)
    echoed = {"billing_address": original.details.get("billing_address", {})}
    echoed.update(details or {})
    request = Charge(
        TxnType.REFUND,
        amount,
        original.card,
        details=echoed,
        discretionary_data={**original.discretionary_data, **(discretionary_data or {})},
        customer_id=original.customer_id,
        from_ip=from_ip,
        original_transaction_id=original.transaction_id,
    )
    original.refunded += amount
    return charge(state, at, request)


def adjust(state: SandboxState, at: datetime, transaction_id: int, amount: Decimal) -> Transaction:
    txn = state.transaction(transaction_id)
    adjustable = (txn.type, txn.status) in {
        (TxnType.AUTHORIZATION, TxnStatus.AUTHORIZED),
        (TxnType.REFUND, TxnStatus.PENDING),
    }
    if not adjustable or amount > txn.original_amount * ADJUST_LIMIT:
        raise VendorErrors.of(messages.NOT_ADJUSTABLE)
    if txn.type is TxnType.REFUND and txn.original_transaction_id is not None:
        original = state.transactions[txn.original_transaction_id]
        if original.refunded - txn.amount + amount > original.amount:
            raise VendorErrors.of(messages.AMOUNT_TOO_HIGH)
        original.refunded += amount - txn.amount
    txn.amount = amount
    state.record("transaction.adjusted", txn.transaction_id, at)
    return txn


def add_level_three(
    state: SandboxState, transaction_id: int, brand: str, line_items: list[dict[str, Any]]
) -> Transaction:
    """Attach Visa/MasterCard enhanced data to an approved, unsettled sale (code 170)."""
    txn = state.transaction(transaction_id)
    is_sale = txn.type is TxnType.SALE or (
        txn.type is TxnType.AUTHORIZATION and txn.status is TxnStatus.PENDING
    )
    if not is_sale or txn.status is not TxnStatus.PENDING or txn.card.brand != brand:
        raise VendorErrors.of(messages.NOT_ENHANCEABLE)
    txn.level_three = list(line_items)
    return txn


def email_receipt(state: SandboxState, transaction_id: int, email: str) -> Transaction:
    txn = state.transaction(transaction_id)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise VendorErrors.of(messages.INVALID_EMAIL)
    txn.receipt_emailed_to = email
    return txn
