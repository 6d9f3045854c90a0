"""The source document a template reads, and helpers that build it from domain objects.

```
{
  "payment":  {...},   # the canonical Payment (money as Decimal, times as ISO-8601 UTC text)
  "customer": {...},   # the canonical Customer (the payment's, unless given)
  "order":    {...},   # the canonical Order, its lines under "lines"
  "line":     {...},   # the order line being mapped (sales order line templates)
  "invoice":  {...},   # the canonical Invoice
  "batch":    {...},   # a settlement batch (fees, deposits, daily summary)
  "context":  {...},   # values the flow decides: journal_batch_number, line_number, ...
  "enrich":   {"d365_customer": {...}, "d365_order": {...}, "d365_invoice": {...}},
}
```
``settings`` is not part of the document: templates read it at compile time. Empty text in
domain objects means "unknown" and is left out, so a required field mapped from it fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from payledger.domain import Address, Customer, Invoice, Order, OrderLine, Payment, SettlementBatch
from payledger.mapping.schema import FieldType

S, D, I, B, T, L, O = (  # noqa: E741 - one-letter aliases keep the table below readable
    FieldType.STRING,
    FieldType.DECIMAL,
    FieldType.INTEGER,
    FieldType.BOOLEAN,
    FieldType.DATETIME,
    FieldType.LIST,
    FieldType.OBJECT,
)

_ADDRESS = {"lines": L, "lines.*": S, "city": S, "state": S, "postal_code": S, "country": S}
_CUSTOMER = {
    "name": S, "account": S, "gateway_customer_id": S, "email": S, "phone": S,
    "is_organization": B, "address": O, **{f"address.{k}": v for k, v in _ADDRESS.items()},
}  # fmt: skip
_LINE = {
    "item_number": S, "quantity": I, "unit_price": D, "description": S, "total": D, "currency": S,
}  # fmt: skip

DOCUMENT_FIELDS: dict[str, dict[str, FieldType]] = {
    "payment": {
        "gateway_txn_id": S, "kind": S, "status": S, "outcome": S, "amount": D, "currency": S,
        "occurred_at": T, "response_code": S, "message": S, "original_txn_id": S,
        "order_ref": S, "invoice_ref": S, "batch_number": S, "auth_code": S,
        "custom_fields": O, "custom_fields.*": S, "recurring": B, "token": O,
        "token.vault_customer_id": S,
        "token.masked_card": S, "token.card_type": S, "token.expires": S,
    },
    "customer": _CUSTOMER,
    "order": {
        "reference": S, "number": S, "currency": S, "total": D, "payment_status": S,
        "lines": L, **{f"lines.*.{k}": v for k, v in _LINE.items()},
        "delivery_address": O, **{f"delivery_address.{k}": v for k, v in _ADDRESS.items()},
    },
    "line": _LINE,
    "invoice": {
        "number": S, "customer_account": S, "amount": D, "open_amount": D, "currency": S,
        "due": FieldType.DATE, "order_number": S,
    },
    "batch": {
        "number": S, "settled_at": T, "currency": S, "net": D, "sales": D, "refunds": D,
        "fees": D, "transaction_count": I,
    },
}  # fmt: skip
"""Known paths per namespace and their types; ``*`` stands for any key or list index."""

FREE_NAMESPACES = ("context",)
"""Namespaces whose paths are not checked (the flow fills them as it needs)."""

ENRICHMENTS: dict[str, tuple[str, str]] = {
    "d365_customer": ("d365", "CustomersV3"),
    "d365_order": ("d365", "SalesOrderHeadersV2"),
    "d365_invoice": ("d365", "SalesInvoiceHeadersV2"),
}
"""Lookups a template may declare under ``needs``: name → (system, entity) of the row."""


def known_type(namespace: str, rest: tuple[str, ...]) -> FieldType | None:
    """The type of a document path below ``namespace``; None when the path is unknown."""
    fields = DOCUMENT_FIELDS.get(namespace, {})
    if not rest:
        return FieldType.OBJECT
    for candidate in _patterns(rest):
        if candidate in fields:
            return fields[candidate]
    return None


def _patterns(rest: tuple[str, ...]) -> list[str]:
    patterns = [""]
    for segment in rest:
        patterns = [f"{p}.{s}" if p else s for p in patterns for s in (segment, "*")]
    return patterns


_PLAIN = frozenset({str, int, bool, Decimal, type(None)})


def jsonable(value: Any) -> Any:
    """A value as the document holds it: Decimals exact, instants ISO-8601 UTC text."""
    if type(value) in _PLAIN:
        return value
    if type(value) is dict or isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


_EMPTY_WHEN_FALSY = (str, dict, list)


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out None and empty text, objects and lists (domain objects use "" for unknown)."""
    return {
        key: value
        for key, value in values.items()
        if value is not None and (value or type(value) not in _EMPTY_WHEN_FALSY)
    }


def address_section(address: Address) -> dict[str, Any]:
    return _compact(
        {
            "lines": [line for line in address.lines if line],
            "city": address.city,
            "state": address.state,
            "postal_code": address.postal_code,
            "country": address.country,
        }
    )


def customer_section(customer: Customer) -> dict[str, Any]:
    values = {
        "name": customer.name,
        "account": customer.account,
        "gateway_customer_id": customer.gateway_customer_id,
        "email": customer.email,
        "phone": customer.phone,
        "address": address_section(customer.billing_address),
    }
    return {**_compact(values), "is_organization": customer.is_organization}


def payment_section(payment: Payment) -> dict[str, Any]:
    token = payment.token
    values = {
        "gateway_txn_id": payment.gateway_txn_id,
        "kind": payment.kind.value,
        "status": payment.status.value,
        "outcome": payment.outcome.value,
        "amount": payment.amount.amount,
        "currency": payment.amount.currency,
        "occurred_at": jsonable(payment.occurred_at),
        "response_code": payment.response_code,
        "message": payment.message,
        "original_txn_id": payment.original_txn_id,
        "order_ref": payment.order_ref,
        "invoice_ref": payment.invoice_ref,
        "batch_number": payment.batch_number,
        "auth_code": payment.auth_code,
        "custom_fields": {k: v for k, v in payment.custom_fields.items() if v},
        "recurring": payment.recurring or None,  # left out unless a schedule made it
        "token": _compact(
            {
                "vault_customer_id": token.vault_customer_id,
                "masked_card": token.masked_card,
                "card_type": token.card_type,
                "expires": token.expires,
            }
        )
        if token
        else None,
    }
    return _compact(values)


def line_section(line: OrderLine) -> dict[str, Any]:
    values = {
        "item_number": line.item_number,
        "quantity": line.quantity,
        "unit_price": line.unit_price.amount,
        "currency": line.unit_price.currency,
        "description": line.description,
        "total": line.total.amount,
    }
    return _compact(values)


def order_section(order: Order) -> dict[str, Any]:
    values = {
        "reference": order.reference,
        "number": order.number,
        "currency": order.currency,
        "total": order.total.amount if order.lines else None,  # known only by its number
        "payment_status": order.payment_status,
        "lines": [line_section(line) for line in order.lines],
        "delivery_address": address_section(order.delivery_address)
        if order.delivery_address
        else None,
    }
    return _compact(values)


def invoice_section(invoice: Invoice) -> dict[str, Any]:
    values = {
        "number": invoice.number,
        "customer_account": invoice.customer_account,
        "amount": invoice.amount.amount,
        "open_amount": invoice.open_amount.amount,
        "currency": invoice.amount.currency,
        "due": jsonable(invoice.due) if invoice.due else None,
        "order_number": invoice.order_number,
    }
    return _compact(values)


def batch_section(batch: SettlementBatch) -> dict[str, Any]:
    values = {
        "number": batch.number,
        "settled_at": jsonable(batch.settled_at),
        "currency": batch.net.currency,
        "net": batch.net.amount,
        "sales": batch.sales.amount,
        "refunds": batch.refunds.amount,
        "fees": batch.fees.amount if batch.fees else None,
        "transaction_count": batch.transaction_count,
    }
    return _compact(values)


def source_document(
    payment: Payment | None = None,
    *,
    customer: Customer | None = None,
    order: Order | None = None,
    line: OrderLine | None = None,
    invoice: Invoice | None = None,
    batch: SettlementBatch | None = None,
    context: Mapping[str, Any] | None = None,
    enrich: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The source document for domain objects; sections not given are left out.

    Args:
        payment: the payment being mapped; its customer (else the order's) is used unless
            ``customer`` is given.
        customer, order, line, invoice, batch: canonical objects the template may read.
        context: values the flow decides (``journal_batch_number``, ``line_number``, ...).
        enrich: rows the flow looked up for the template's ``needs`` (raw D365 JSON rows).
    """
    customer = (
        customer or (payment.customer if payment else None) or (order.customer if order else None)
    )
    sections: dict[str, Any] = {
        "payment": payment_section(payment) if payment else None,
        "customer": customer_section(customer) if customer else None,
        "order": order_section(order) if order else None,
        "line": line_section(line) if line else None,
        "invoice": invoice_section(invoice) if invoice else None,
        "batch": batch_section(batch) if batch else None,
        "context": jsonable(context) if context else None,
        "enrich": jsonable(enrich) if enrich else None,
    }
    return {name: section for name, section in sections.items() if section is not None}
