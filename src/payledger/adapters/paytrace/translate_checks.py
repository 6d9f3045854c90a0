"""PayTrace check (ACH) records ⇄ canonical payments.

Checks have their own id sequence (``check_transaction_id``), which may overlap the card
``transaction_id`` sequence, so a check's gateway id carries the prefix ``CHK-``: inbox keys,
postings and ``PaymentReference`` (``PT-CHK-981601-PAY``) never collide with a card's.

Kinds and statuses (the export shape is an assumption, see ``PayTracePaths.check_export``):

| record                           | kind          | status   |
|----------------------------------|---------------|----------|
| sale, funded hold (``PENDING``)  | ach_sale      | approved |
| hold not funded yet (``HELD``)   | authorization | approved |
| refund                           | ach_refund    | approved |
| ``SETTLED`` / ``VOIDED``         | as above      | settled / voided |
| ``DECLINED`` (answer 125)        | as above      | declined (no ledger line) |

A status word payledger does not know is read as declined with an error outcome: it posts
nothing rather than guess.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from payledger.adapters.paytrace.outcomes import message_of, outcome_of
from payledger.adapters.paytrace.schemas import PayTraceCheckRecord
from payledger.adapters.paytrace.translate import PACIFIC, address_of, parse_pacific
from payledger.domain import Customer, Money, Outcome, Payment, PaymentKind, PaymentStatus

CHECK_ID_PREFIX = "CHK-"

CHECK_STATUS_CODES = {
    "HELD": PaymentStatus.APPROVED,
    "PENDING": PaymentStatus.APPROVED,
    "SETTLED": PaymentStatus.SETTLED,
    "VOIDED": PaymentStatus.VOIDED,
    "DECLINED": PaymentStatus.DECLINED,
}
"""The sandbox's check ``status_code`` words; real PayTrace may differ (UNCERTAIN)."""

CHECK_APPROVED, CHECK_REFUNDED, CHECK_DECLINED = 120, 122, 125


def check_txn_id(check_transaction_id: int) -> str:
    """The gateway id of a check: ``981601`` → ``"CHK-981601"``."""
    return f"{CHECK_ID_PREFIX}{check_transaction_id}"


def check_id_of(gateway_txn_id: str) -> int | None:
    """The ``check_transaction_id`` behind a gateway id, or ``None`` for a card transaction."""
    digits = gateway_txn_id.removeprefix(CHECK_ID_PREFIX)
    if digits == gateway_txn_id or not digits.isdigit():
        return None
    return int(digits)


def check_kind_of(record: PayTraceCheckRecord) -> PaymentKind:
    """Refund → ACH refund; a hold not funded yet → authorization; anything else → ACH sale."""
    txn_type = record.transaction_type.upper()
    if "REFUND" in txn_type:
        return PaymentKind.ACH_REFUND
    if "HOLD" in txn_type and record.status_code.upper() == "HELD":
        return PaymentKind.AUTHORIZATION
    return PaymentKind.ACH_SALE


def payment_from_check(
    record: PayTraceCheckRecord, *, currency: str = "USD", tz: ZoneInfo = PACIFIC
) -> Payment:
    """A canonical :class:`Payment` from one exported check record."""
    kind = check_kind_of(record)
    status = CHECK_STATUS_CODES.get(record.status_code.upper())
    known = status is not None
    declined = status is PaymentStatus.DECLINED or not known
    code = (
        CHECK_DECLINED
        if declined
        else CHECK_REFUNDED
        if kind is PaymentKind.ACH_REFUND
        else CHECK_APPROVED
    )
    outcome = outcome_of(code, success=not declined, processor_text=record.ach_message)
    message = message_of(code, success=not declined, processor_text=record.ach_message)
    if not known:
        outcome = Outcome.ERROR
        message = f"Unrecognised PayTrace check status {record.status_code!r}; nothing posted."
    return Payment(
        gateway_txn_id=check_txn_id(record.check_transaction_id),
        kind=kind,
        status=status or PaymentStatus.DECLINED,
        amount=Money(record.amount, currency),
        occurred_at=parse_pacific(record.created.at, tz),
        outcome=outcome,
        response_code=str(code),
        message=message,
        original_txn_id=check_txn_id(record.original_check_id) if record.original_check_id else "",
        customer=_customer_of(record),
        order_ref=record.customer_reference_id,
        invoice_ref=record.invoice_id,
        custom_fields=dict(record.discretionary_data),
    )


def _customer_of(record: PayTraceCheckRecord) -> Customer | None:
    name = record.billing_address.name
    if not (name or record.customer_id):
        return None
    return Customer(
        name=name,
        gateway_customer_id=record.customer_id,
        billing_address=address_of(record.billing_address),
    )
