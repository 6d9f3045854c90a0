"""Canonical payments as JSON documents (for the inbox and job payloads), exactly round-trippable.

Amounts travel as strings so no float ever touches them; times as ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from payledger.domain.model import (
    Address,
    Customer,
    Outcome,
    Payment,
    PaymentKind,
    PaymentStatus,
    PaymentToken,
)
from payledger.domain.money import Money


def money_to_dict(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def money_from_dict(data: dict[str, str]) -> Money:
    return Money(Decimal(data["amount"]), data["currency"])


def _address_to_dict(address: Address) -> dict[str, Any]:
    return {
        "lines": list(address.lines),
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _customer_to_dict(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "account": customer.account,
        "gateway_customer_id": customer.gateway_customer_id,
        "email": customer.email,
        "phone": customer.phone,
        "billing_address": _address_to_dict(customer.billing_address),
        "is_organization": customer.is_organization,
    }


def _customer_from_dict(data: dict[str, Any]) -> Customer:
    address = data.get("billing_address") or {}
    return Customer(
        **{k: v for k, v in data.items() if k != "billing_address"},
        billing_address=Address(**{**address, "lines": tuple(address.get("lines", ()))}),
    )


def payment_to_dict(payment: Payment) -> dict[str, Any]:
    """A JSON-ready document of ``payment``."""
    token = payment.token
    return {
        "gateway_txn_id": payment.gateway_txn_id,
        "kind": payment.kind.value,
        "status": payment.status.value,
        "amount": money_to_dict(payment.amount),
        "occurred_at": payment.occurred_at.isoformat(),
        "outcome": payment.outcome.value,
        "response_code": payment.response_code,
        "message": payment.message,
        "original_txn_id": payment.original_txn_id,
        "customer": _customer_to_dict(payment.customer) if payment.customer else None,
        "token": {
            "vault_customer_id": token.vault_customer_id,
            "masked_card": token.masked_card,
            "card_type": token.card_type,
            "expires": token.expires,
        }
        if token
        else None,
        "order_ref": payment.order_ref,
        "invoice_ref": payment.invoice_ref,
        "batch_number": payment.batch_number,
        "auth_code": payment.auth_code,
        "custom_fields": dict(payment.custom_fields),
        "recurring": payment.recurring,
        **{name: value for name, value in _checks(payment).items() if value},
    }


def _checks(payment: Payment) -> dict[str, str]:
    """The screening facts the gateway gave; absent ones are left out of the document."""
    return {
        "avs_result": payment.avs_result,
        "csc_result": payment.csc_result,
        "ip_address": payment.ip_address,
    }


def payment_from_dict(data: dict[str, Any]) -> Payment:
    """The :class:`Payment` a :func:`payment_to_dict` document describes."""
    return Payment(
        gateway_txn_id=data["gateway_txn_id"],
        kind=PaymentKind(data["kind"]),
        status=PaymentStatus(data["status"]),
        amount=money_from_dict(data["amount"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        outcome=Outcome(data["outcome"]),
        response_code=data["response_code"],
        message=data["message"],
        original_txn_id=data["original_txn_id"],
        customer=_customer_from_dict(data["customer"]) if data.get("customer") else None,
        token=PaymentToken(**data["token"]) if data.get("token") else None,
        order_ref=data["order_ref"],
        invoice_ref=data["invoice_ref"],
        batch_number=data["batch_number"],
        auth_code=data["auth_code"],
        custom_fields=dict(data["custom_fields"]),
        recurring=bool(data.get("recurring", False)),  # absent in events stored before
        avs_result=data.get("avs_result", ""),
        csc_result=data.get("csc_result", ""),
        ip_address=data.get("ip_address", ""),
    )
