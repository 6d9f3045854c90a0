"""PayTrace ⇄ canonical model: Pacific date text, kinds, statuses, outcomes and event keys.

PayTrace writes times as US-style Pacific local text without a zone (``"4/10/2015 4:06:30
PM"``). The zone is a fact sheet UNCERTAIN, so every function takes ``tz`` (default
America/Los_Angeles). In the autumn "fall back" hour the earlier (daylight) reading is used;
a time inside the spring gap is read with the offset before the change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from payledger.adapters.paytrace.outcomes import message_of, outcome_of
from payledger.adapters.paytrace.schemas import (
    PayTraceAddressOut,
    PayTraceBatch,
    PayTraceCustomerProfile,
    PayTraceTransaction,
    PayTraceTransactionResult,
)
from payledger.domain import (
    Address,
    Customer,
    Money,
    Outcome,
    Payment,
    PaymentKind,
    PaymentStatus,
    PaymentToken,
    SettlementBatch,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
_TEXT_FORMAT = "%m/%d/%Y %I:%M:%S %p"

STATUS_CODES = {
    "DECLINED": PaymentStatus.DECLINED,
    "AUTHORIZED": PaymentStatus.APPROVED,
    "PENDING": PaymentStatus.APPROVED,
    "SETTLED": PaymentStatus.SETTLED,
    "VOIDED": PaymentStatus.VOIDED,
}
"""The sandbox's export ``status_code`` words; real PayTrace may differ (UNCERTAIN)."""


def parse_pacific(text: str, tz: ZoneInfo = PACIFIC) -> datetime:
    """``"3/24/2026 10:15:02 AM"`` (vendor local time) → aware UTC."""
    local = datetime.strptime(" ".join(text.split()), _TEXT_FORMAT)
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def request_date(moment: datetime, tz: ZoneInfo = PACIFIC) -> str:
    """The vendor-local calendar date of ``moment`` as ``MM/DD/YYYY``."""
    return moment.astimezone(tz).strftime("%m/%d/%Y")


def local_date(moment: datetime, tz: ZoneInfo = PACIFIC) -> date:
    return moment.astimezone(tz).date()


def lookup_window(since: datetime, until: datetime, tz: ZoneInfo = PACIFIC) -> tuple[date, date]:
    """Vendor-local dates that surely cover ``since``..``until`` (a day of slack each side)."""
    return local_date(since - timedelta(days=1), tz), local_date(until + timedelta(days=1), tz)


def kind_of(record: PayTraceTransaction) -> PaymentKind:
    """SALE → sale, REFUND → refund; an authorization is a capture once it was captured."""
    txn_type = record.transaction_type.upper()
    if txn_type == "REFUND":
        return PaymentKind.REFUND
    if txn_type.startswith("AUTH"):
        captured = record.status_code.upper() in ("PENDING", "SETTLED")
        return PaymentKind.CAPTURE if captured else PaymentKind.AUTHORIZATION
    return PaymentKind.SALE


def status_of(record: PayTraceTransaction) -> PaymentStatus:
    known = STATUS_CODES.get(record.status_code.upper())
    if known is not None:
        return known
    if record.settled:
        return PaymentStatus.SETTLED
    return PaymentStatus.APPROVED if record.approval_code else PaymentStatus.DECLINED


def address_of(address: PayTraceAddressOut) -> Address:
    lines = tuple(line for line in (address.street_address, address.street_address2) if line)
    return Address(lines, address.city, address.state, address.zip, address.country)


def token_of(customer_id: str, masked: str, month: int | None, year: int | None) -> PaymentToken:
    expires = f"{month:02d}/{year % 100:02d}" if month and year else ""
    return PaymentToken(vault_customer_id=customer_id, masked_card=masked, expires=expires)


RECURRING_THROUGH = "Recurring"
"""``created.through`` of the charges PayTrace's own recurring schedules make (UNCERTAIN)."""


def payment_from_export(
    record: PayTraceTransaction,
    *,
    currency: str = "USD",
    tz: ZoneInfo = PACIFIC,
    recurring_through: str = RECURRING_THROUGH,
) -> Payment:
    """A canonical :class:`Payment` from one export record (``recurring`` when its
    ``created.through`` is ``recurring_through``)."""
    kind, status = kind_of(record), status_of(record)
    declined = status is PaymentStatus.DECLINED
    code = 102 if declined else 106 if kind is PaymentKind.REFUND else 101
    card = record.credit_card
    return Payment(
        gateway_txn_id=str(record.transaction_id),
        kind=kind,
        status=status,
        amount=Money(record.amount, currency),
        occurred_at=parse_pacific(record.created.at, tz),
        outcome=outcome_of(code, success=not declined, processor_text=record.approval_message),
        response_code=str(code),
        message=message_of(code, success=not declined, processor_text=record.approval_message),
        original_txn_id=str(record.original_transaction_id or ""),
        customer=_customer_of(record),
        token=token_of(
            record.customer_id, card.masked_number, card.expiration_month, card.expiration_year
        )
        if card.masked_number
        else None,
        order_ref=record.customer_reference_id,
        invoice_ref=record.invoice_id,
        batch_number=str(record.batch_number or ""),
        auth_code=record.approval_code,
        custom_fields=dict(record.discretionary_data),
        recurring=bool(recurring_through) and record.created.through == recurring_through,
        avs_result=record.avs_response.strip(),
        csc_result=record.csc_response.strip(),
        ip_address=record.created.from_ip.strip(),
    )


def _customer_of(record: PayTraceTransaction) -> Customer | None:
    name = record.billing_address.name
    if not (name or record.customer_id):
        return None
    return Customer(
        name=name,
        gateway_customer_id=record.customer_id,
        billing_address=address_of(record.billing_address),
    )


def payment_from_result(
    result: PayTraceTransactionResult,
    *,
    kind: PaymentKind,
    amount: Decimal,
    occurred_at: datetime,
    currency: str = "USD",
    original_txn_id: str = "",
    invoice_ref: str = "",
) -> Payment:
    """A canonical :class:`Payment` from a synchronous transaction answer."""
    outcome = outcome_of(
        result.response_code,
        success=result.success,
        processor_text=result.approval_message,
        error_codes=[int(c) for c in result.errors if c.isdigit()],
    )
    status = _result_status(kind, outcome)
    return Payment(
        gateway_txn_id=str(result.transaction_id or original_txn_id),
        kind=kind,
        status=status,
        amount=Money(amount, currency),
        occurred_at=occurred_at,
        outcome=outcome,
        response_code=str(result.response_code),
        message=message_of(
            result.response_code, success=result.success, processor_text=result.approval_message
        ),
        original_txn_id=original_txn_id,
        token=PaymentToken("", masked_card=result.masked_card_number)
        if result.masked_card_number
        else None,
        invoice_ref=invoice_ref,
        auth_code=result.approval_code,
        custom_fields=dict(result.discretionary_data),
        avs_result=result.avs_response.strip(),
        csc_result=result.csc_response.strip(),
    )


def _result_status(kind: PaymentKind, outcome: Outcome) -> PaymentStatus:
    if outcome is not Outcome.APPROVED:
        return PaymentStatus.DECLINED
    return PaymentStatus.VOIDED if kind is PaymentKind.VOID else PaymentStatus.APPROVED


def batch_from_export(
    batch: PayTraceBatch, *, currency: str = "USD", tz: ZoneInfo = PACIFIC
) -> SettlementBatch:
    return SettlementBatch(
        number=str(batch.batch_number),
        settled_at=parse_pacific(batch.created, tz),
        net=Money(batch.net_amount, currency),
        transaction_count=batch.transaction_count,
        sales=Money(batch.sales_amount, currency),
        refunds=Money(batch.refund_amount, currency),
    )


def customer_from_profile(profile: PayTraceCustomerProfile) -> Customer:
    return Customer(
        name=profile.billing_address.name,
        gateway_customer_id=profile.customer_id,
        email=profile.email,
        phone=profile.phone,
        billing_address=address_of(profile.billing_address),
    )


def token_from_profile(profile: PayTraceCustomerProfile) -> PaymentToken:
    card = profile.credit_card
    if card is None:
        return PaymentToken(vault_customer_id=profile.customer_id)
    return token_of(
        profile.customer_id, card.masked_number, card.expiration_month, card.expiration_year
    )


def event_key(payment: Payment) -> str:
    """Stable inbox key: the same transaction in the same state always gives the same key."""
    return f"paytrace:{payment.gateway_txn_id}:{payment.kind.value}:{payment.status.value}"
