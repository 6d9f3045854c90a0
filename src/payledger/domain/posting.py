"""What a payment must become in the ledger: pure rules, no I/O.

A gateway payment turns into at most one journal-line operation plus, when it belongs to an
order, an update of that order's payment status:

| payment (approved)          | ledger operation                          | order status  |
|-----------------------------|-------------------------------------------|---------------|
| sale, capture, ACH sale     | credit the customer (offset: clearing)    | paid          |
| authorization               | none                                      | authorized    |
| refund, ACH refund          | debit the customer (reversing line)       | refunded      |
| void of an unposted line    | remove that line                          | voided        |
| void of a posted line       | debit the customer (reversal)             | voided        |
| void of an authorization    | none                                      | voided        |
| any declined payment        | none                                      | declined      |

Every ledger line carries a deterministic ``PaymentReference`` built from the gateway
transaction and the operation: it is how payledger proves, after a crash or a lost answer,
that a line already exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from payledger.domain.errors import PayLedgerError
from payledger.domain.model import Payment, PaymentKind, PaymentStatus
from payledger.domain.money import Money


class LedgerOperation(StrEnum):
    PAYMENT = "payment"
    """Credit the customer: money received."""
    REFUND = "refund"
    """Debit the customer: money paid back."""
    REVERSAL = "reversal"
    """Debit the customer to cancel a payment whose journal was already posted."""
    REMOVAL = "removal"
    """Delete a payment line that is still in an unposted journal."""


class OrderPaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    PAID = "paid"
    REFUNDED = "refunded"
    VOIDED = "voided"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One line payledger must create (or remove) in the customer payment journal."""

    operation: LedgerOperation
    reference: str
    amount: Money
    gateway_txn_id: str
    target_reference: str = ""
    """For a removal or reversal: the reference of the line it cancels."""

    @property
    def is_credit(self) -> bool:
        return self.operation is LedgerOperation.PAYMENT


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    order_ref: str
    status: OrderPaymentStatus
    amount: Money
    gateway_txn_id: str
    auth_code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PostingPlan:
    """Everything the ledger must reflect for one payment event."""

    line: LedgerLine | None
    order_update: OrderUpdate | None

    @property
    def is_empty(self) -> bool:
        return self.line is None and self.order_update is None


@dataclass(frozen=True, slots=True)
class OriginalLine:
    """What is known of the line a void cancels."""

    reference: str
    journal_posted: bool


def payment_reference(gateway_txn_id: str, operation: LedgerOperation) -> str:
    """The deterministic ``PaymentReference`` of a ledger line (short enough for D365)."""
    return f"PT-{gateway_txn_id}-{operation.value[:3].upper()}"


_MONEY_IN = {PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.ACH_SALE}
_MONEY_OUT = {PaymentKind.REFUND, PaymentKind.ACH_REFUND}


def plan_posting(payment: Payment, *, voided_line: OriginalLine | None = None) -> PostingPlan:
    """The ledger line and order update a payment event calls for.

    Args:
        payment: the payment in its current state.
        voided_line: for a voided payment, the line that was created for it, if any.
    """
    if not payment.is_approved and payment.status is PaymentStatus.DECLINED:
        return PostingPlan(None, _order_update(payment, OrderPaymentStatus.DECLINED))
    if payment.status is PaymentStatus.VOIDED or payment.kind is PaymentKind.VOID:
        return PostingPlan(
            _void_line(payment, voided_line), _order_update(payment, OrderPaymentStatus.VOIDED)
        )
    if payment.kind is PaymentKind.AUTHORIZATION:
        return PostingPlan(None, _order_update(payment, OrderPaymentStatus.AUTHORIZED))
    if payment.kind in _MONEY_IN:
        line = _line(payment, LedgerOperation.PAYMENT)
        return PostingPlan(line, _order_update(payment, OrderPaymentStatus.PAID))
    if payment.kind in _MONEY_OUT:
        line = _line(payment, LedgerOperation.REFUND)
        return PostingPlan(line, _order_update(payment, OrderPaymentStatus.REFUNDED))
    return PostingPlan(None, None)


def _line(payment: Payment, operation: LedgerOperation, target: str = "") -> LedgerLine:
    return LedgerLine(
        operation=operation,
        reference=payment_reference(payment.gateway_txn_id, operation),
        amount=payment.amount,
        gateway_txn_id=payment.gateway_txn_id,
        target_reference=target,
    )


def _void_line(payment: Payment, voided_line: OriginalLine | None) -> LedgerLine | None:
    if voided_line is None:
        return None  # nothing was posted for it (an authorization, or never reached the ledger)
    if voided_line.journal_posted:
        return _line(payment, LedgerOperation.REVERSAL, voided_line.reference)
    return _line(payment, LedgerOperation.REMOVAL, voided_line.reference)


def _order_update(payment: Payment, status: OrderPaymentStatus) -> OrderUpdate | None:
    if not payment.order_ref:
        return None
    return OrderUpdate(
        order_ref=payment.order_ref,
        status=status,
        amount=payment.amount,
        gateway_txn_id=payment.gateway_txn_id,
        auth_code=payment.auth_code,
        reason=payment.message if status is OrderPaymentStatus.DECLINED else "",
    )


class PostingState(StrEnum):
    PLANNED = "planned"
    """Decided and stored; not sent yet."""
    SENDING = "sending"
    """Claimed by a flush; its journal and line number are fixed before the request goes out."""
    UNKNOWN = "unknown"
    """Sent, outcome unknown: it is looked up by reference before anything is resent."""
    POSTED = "posted"
    DEAD = "dead"
    """Refused by the ledger; waits for a fix and a replay."""
    CANCELLED = "cancelled"
    """Voided before it was ever sent."""
    SHADOW = "shadow"
    """Shadow mode: written nowhere; its payload is exactly what would have been sent."""

    @property
    def written(self) -> bool:
        """In the ledger, or as good as in it for shadow mode."""
        return self in (PostingState.POSTED, PostingState.SHADOW)


ORDER_OPERATION_PREFIX = "order:"
SUMMARY_OPERATION_PREFIX = "summary:"
"""Operation of a daily-summary line: ``summary:<method>`` (``domain.summary``)."""


@dataclass(frozen=True)
class Posting:
    """A ledger write payledger owes, identified by (gateway transaction, operation)."""

    reference: str
    gateway_txn_id: str
    operation: str
    """A :class:`LedgerOperation` value, or ``order:<status>`` for an order update."""
    company: str
    business_day: str
    """ISO date of the journal the line belongs to (the company's calendar day)."""
    amount: Money
    payload: dict[str, Any]
    """The body written to the ledger (mapped by the templates)."""
    customer_account: str = ""
    target_reference: str = ""
    state: PostingState = PostingState.PLANNED
    journal_batch_number: str = ""
    line_number: int | None = None
    attempts: int = 0
    last_error: str = ""
    template_version: str = ""
    """The template version that mapped ``payload`` (``d365_payment_journal_line@3``,
    ``...@default``); empty when no template did (a removal's key)."""

    @property
    def is_line(self) -> bool:
        return self.operation in (
            LedgerOperation.PAYMENT,
            LedgerOperation.REFUND,
            LedgerOperation.REVERSAL,
        ) or self.operation.startswith(SUMMARY_OPERATION_PREFIX)

    @property
    def is_removal(self) -> bool:
        return self.operation == LedgerOperation.REMOVAL

    @property
    def is_order_update(self) -> bool:
        return self.operation.startswith(ORDER_OPERATION_PREFIX)


@dataclass(frozen=True)
class DayJournal:
    """A payment journal of one company's business day in one currency, as payledger keeps it:
    generation 1, then 2 and so on, a new one each time the one before was posted."""

    company: str
    business_day: str
    currency: str
    journal_name: str
    generation: int = 1
    batch_number: str = ""
    """The ledger's number for it; empty until the ledger opened it."""
    closed: bool = False
    """Takes no new lines: closed after its day, being posted or posted."""


def order_reference(update: OrderUpdate) -> str:
    return f"OR-{update.gateway_txn_id}-{update.status.value[:4].upper()}"


class JournalClosed(PayLedgerError):
    """The journal took no new lines: it was closed (or is being posted) meanwhile."""

    retryable: ClassVar[bool] = True


class JournalState(StrEnum):
    """Where a closed journal stands on its way to being posted in the ledger."""

    UNPOSTED = "unposted"
    APPROVED = "approved"
    """An operator said: post it."""
    POSTING = "posting"
    """The post request went out; its outcome is read back before anything is sent again."""
    POSTED = "posted"
    REFUSED = "refused"
    """The ledger said no (``post_error`` says why); tried again on later runs."""


class PostMode(StrEnum):
    NEVER = "never"
    WHEN_BALANCED = "when_balanced"
    AFTER_REVIEW = "after_review"


@dataclass(frozen=True)
class Journal:
    """A payment journal payledger opened, with where it stands on its way to posted."""

    company: str
    business_day: str
    currency: str
    batch_number: str
    generation: int = 1
    state: JournalState = JournalState.UNPOSTED
    closed: bool = False
    created_at: datetime | None = None
    closed_at: datetime | None = None
    approved_by: str = ""
    post_attempts: int = 0
    post_error: str = ""
    posted_at: datetime | None = None

    def may_post(self, mode: PostMode) -> bool:
        """Whether ``mode`` lets payledger post it (once it is ready)."""
        if mode is PostMode.NEVER or self.state is JournalState.POSTED:
            return False
        return mode is PostMode.WHEN_BALANCED or bool(self.approved_by)


@dataclass(frozen=True)
class JournalContents:
    """payledger's own lines in a journal: those written (count and net amount, credits
    minus debits) and those still owed or on their way."""

    lines: int = 0
    total: Decimal = Decimal(0)
    owed: int = 0


def last_closable_day(now: datetime, timezone: str, close_after: timedelta) -> str:
    """The latest business day (ISO date) over for at least ``close_after`` at ``now``.

    A day is over at the next midnight in ``timezone``; day ``D`` may close once
    ``midnight(D + 1) + close_after <= now``, i.e. ``D + 1 <= local date of now - close_after``.
    """
    local = (now - close_after).astimezone(ZoneInfo(timezone)).date()
    return (local - timedelta(days=1)).isoformat()


def balance_difference(
    own: JournalContents, ledger_lines: int, ledger_total: Decimal, currency: str
) -> str | None:
    """What differs between payledger's lines in a journal and the ledger's; None if nothing."""
    if (own.lines, own.total) == (ledger_lines, ledger_total):
        return None
    return (
        f"payledger wrote {own.lines} line(s) totalling {own.total} {currency}, "
        f"the ledger holds {ledger_lines} line(s) totalling {ledger_total} {currency}"
    )
