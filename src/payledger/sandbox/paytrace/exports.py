"""Records as PayTrace exports them (fact sheet §4.17, §4.15 and the proposed batch shape).

Field names follow the confirmed export example; ``status_code`` / ``status_message`` carry the
sandbox's own status words, and ``original_transaction_id`` / ``batch_number`` are sandbox
extras (both UNCERTAIN for real PayTrace).
"""

from __future__ import annotations

from typing import Any

from payledger.sandbox.paytrace.clock import pacific_text
from payledger.sandbox.paytrace.records import (
    CHECK_STATUS_TEXT,
    STATUS_TEXT,
    Batch,
    CheckTransaction,
    CustomerProfile,
    Origin,
    Recurrence,
    Transaction,
)
from payledger.sandbox.paytrace.requests import ADDRESS_KEYS


def full_address(address: dict[str, str], *, with_county: bool) -> dict[str, str]:
    keys = [k for k in ADDRESS_KEYS if with_county or k != "county"]
    filled = {key: address.get(key, "") for key in keys}
    filled["country"] = filled["country"] or "US"
    return filled


def created(origin: Origin) -> dict[str, str]:
    return {
        "through": origin.through,
        "at": pacific_text(origin.at),
        "by": origin.by,
        "from_ip": origin.from_ip,
    }


def transaction_record(txn: Transaction, *, include_bin: bool = False) -> dict[str, Any]:
    details = txn.details
    return {
        "transaction_id": txn.transaction_id,
        "credit_card": {
            "masked_number": txn.card.export_mask(include_bin),
            "expiration_month": txn.card.expiration_month,
            "expiration_year": txn.card.expiration_year % 100,
        },
        "transaction_type": txn.type.value,
        "description": details.get("description", ""),
        "amount": txn.amount,
        "invoice_id": details.get("invoice_id", ""),
        "shipping_address": full_address(details.get("shipping_address", {}), with_county=True),
        "billing_address": full_address(details.get("billing_address", {}), with_county=False),
        "receipt_emailed_to": txn.receipt_emailed_to,
        "tax_amount": details.get("tax_amount", ""),
        "customer_reference_id": details.get("customer_reference_id", ""),
        "approval_code": txn.approval_code,
        "approval_message": txn.approval_message,
        "avs_response": txn.avs_response,
        "csc_response": txn.csc_response,
        "status_code": txn.status.value,
        "status_message": STATUS_TEXT[txn.status],
        "created": created(txn.created),
        "settled": pacific_text(txn.settled_at) if txn.settled_at else "",
        "customer_id": txn.customer_id,
        "discretionary_data": dict(txn.discretionary_data),
        "original_transaction_id": txn.original_transaction_id,
        "batch_number": txn.batch_number,
    }


def searchable_text(txn: Transaction) -> list[str]:
    """What ``including_text`` searches: references, names, e-mail and discretionary values."""
    details = txn.details
    texts = [
        str(txn.transaction_id),
        txn.customer_id,
        txn.approval_code,
        *(
            str(details.get(k, ""))
            for k in ("invoice_id", "description", "email", "customer_reference_id")
        ),
        *details.get("billing_address", {}).values(),
        *txn.discretionary_data.values(),
    ]
    return [text for text in texts if text]


def batch_summary(batch: Batch) -> dict[str, Any]:
    return {
        "batch_number": batch.batch_number,
        "created": pacific_text(batch.closed_at),
        "transaction_count": len(batch.transaction_ids),
        "net_amount": batch.net_amount,
        "sales_count": batch.sales_count,
        "sales_amount": batch.sales_amount,
        "refund_count": batch.refund_count,
        "refund_amount": batch.refund_amount,
        "card_types": batch.by_brand,
    }


def customer_record(profile: CustomerProfile) -> dict[str, Any]:
    record: dict[str, Any] = {"customer_id": profile.customer_id}
    if profile.card is not None:
        record["credit_card"] = {
            "masked_number": profile.card.export_mask(),
            "expiration_month": profile.card.expiration_month,
            "expiration_year": profile.card.expiration_year,
        }
    if profile.account is not None:
        record["check"] = {
            "masked_account_number": profile.account.masked,
            "routing_number": profile.account.routing_number,
        }
    record.update(
        billing_address=full_address(profile.billing_address, with_county=False),
        shipping_address=full_address(profile.shipping_address, with_county=True),
        email=profile.email,
        phone=profile.phone,
        fax=profile.fax,
        discretionary_data=dict(profile.discretionary_data),
        created=created(profile.created),
    )
    return record


def recurrence_record(recurrence: Recurrence) -> dict[str, Any]:
    return {
        "id": recurrence.recurrence_id,
        "customer_id": recurrence.customer_id,
        "amount": recurrence.amount,
        "frequency": recurrence.frequency,
        "start_date": recurrence.start_date.strftime("%m/%d/%Y"),
        "next_date": recurrence.next_date.strftime("%m/%d/%Y") if recurrence.next_date else "",
        "total_count": recurrence.total_count,
        "current_count": recurrence.runs,
        "transaction_type": recurrence.transaction_type,
        "description": recurrence.description,
        "customer_receipt": recurrence.customer_receipt,
        "status": "ACTIVE" if recurrence.active else "INACTIVE",
    }


def check_record(check: CheckTransaction) -> dict[str, Any]:
    return {
        "check_transaction_id": check.check_transaction_id,
        "kind": check.kind,
        "status": check.status.value,
        "amount": check.amount,
        "refunded": check.refunded,
        "masked_account_number": check.account.masked,
        "customer_id": check.customer_id,
        "original_check_id": check.original_check_id,
        "created": created(check.created),
    }


CHECK_TYPES = {"sale": "CHECK SALE", "hold": "CHECK HOLD", "refund": "CHECK REFUND"}
"""INVENTED ``transaction_type`` words of check records (no check export is documented)."""


def check_export_record(check: CheckTransaction) -> dict[str, Any]:
    """A check as the sandbox exports it (fact sheet §4.14: check export UNCERTAIN).

    The shape is INVENTED after the card record: ``check_transaction_id`` instead of
    ``transaction_id`` (which tells a check record apart in a mixed export), the bank account
    masked instead of the card, ``status_code`` one of ``HELD``, ``PENDING``, ``SETTLED``,
    ``VOIDED``, ``DECLINED``, and ``original_check_id`` on refunds.
    """
    details = check.details
    return {
        "check_transaction_id": check.check_transaction_id,
        "transaction_type": CHECK_TYPES[check.kind],
        "amount": check.amount,
        "check": {
            "masked_account_number": check.account.masked,
            "routing_number": check.account.routing_number,
        },
        "description": details.get("description", ""),
        "invoice_id": details.get("invoice_id", ""),
        "customer_reference_id": details.get("customer_reference_id", ""),
        "billing_address": full_address(details.get("billing_address", {}), with_county=False),
        "status_code": check.status.value,
        "status_message": CHECK_STATUS_TEXT[check.status],
        "ach_code": 0,
        "ach_message": "",
        "created": created(check.created),
        "settled": pacific_text(check.settled_at) if check.settled_at else "",
        "customer_id": check.customer_id,
        "discretionary_data": dict(check.discretionary_data),
        "original_check_id": check.original_check_id,
    }


def check_searchable_text(check: CheckTransaction) -> list[str]:
    """What ``including_text`` searches in a check record (as for card records)."""
    details = check.details
    texts = [
        str(check.check_transaction_id),
        check.customer_id,
        *(
            str(details.get(k, ""))
            for k in ("invoice_id", "description", "email", "customer_reference_id")
        ),
        *details.get("billing_address", {}).values(),
        *check.discretionary_data.values(),
    ]
    return [text for text in texts if text]
