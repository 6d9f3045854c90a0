"""Source documents for ``bench suggest``: what each flow hands its template, with fixed seeds.

Built from domain objects through :func:`source_document`, as the flows build them (docs/mapping.md
§2 and §7), with values varied the way real ones vary: persons and organisations, addresses with
one or two lines, card and ACH payments, refunds, invoices present or not, enrichment rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from payledger.domain import (
    Address,
    Customer,
    Invoice,
    Money,
    Order,
    OrderLine,
    Payment,
    PaymentKind,
    PaymentStatus,
    PaymentToken,
)
from payledger.mapping import source_document

_FIRST = ("Nathan", "Ada", "Grace", "Linus", "Maria", "Kwame", "Yuki", "Olga", "Steve", "Priya")
_LAST = ("Williams", "Lovelace", "Hopper", "Okafor", "Tanaka", "Ivanova", "Smith", "Patel")
_ORGS = ("Acme Stores Ltd", "Harbor Freight Co", "Blue Ridge Supply", "Northwind Traders")
_CITIES = (("Seattle", "WA", "98052"), ("Tacoma", "WA", "98402"), ("Portland", "OR", "97201"),
           ("Spokane", "WA", "99201"), ("Boise", "ID", "83702"))  # fmt: skip
_ITEMS = (("D0001", "Desk lamp"), ("D0002", "Office chair"), ("T0104", "Standing desk"),
          ("M0042", "Monitor arm"), ("P0007", "Paper, 500 sheets"))  # fmt: skip
_CURRENCIES = ("USD", "USD", "USD", "CAD", "EUR")


def _money(rng: random.Random, low: int, high: int, currency: str = "USD") -> Money:
    return Money.of(Decimal(rng.randint(low * 100, high * 100)) / 100, currency)


def _address(rng: random.Random) -> Address:
    city, state, zip_code = rng.choice(_CITIES)
    lines = [f"{rng.randint(1, 9999)} {rng.choice(('Main', 'Harbor', 'Pine', 'Dock'))} St"]
    if rng.random() < 0.4:
        lines.append(f"Suite {rng.randint(1, 400)}")
    return Address(tuple(lines), city, state, zip_code, rng.choice(("US", "us")))


def _customer(rng: random.Random, index: int) -> Customer:
    organisation = rng.random() < 0.4
    name = rng.choice(_ORGS) if organisation else f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    local = name.split()[0].lower()
    return Customer(
        name=name,
        account=f"US-{index % 900 + 100:03d}",
        gateway_customer_id=f"cust-{index:04d}",
        email=f"{local}{index}@example.com",
        phone=f"+1-206-555-{rng.randint(0, 9999):04d}",
        billing_address=_address(rng),
        is_organization=organisation,
    )


def _payment(rng: random.Random, index: int, customer: Customer, **changes: Any) -> Payment:
    kind = rng.choice((PaymentKind.SALE, PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.REFUND))
    ach = rng.random() < 0.2
    values: dict[str, Any] = {
        "gateway_txn_id": f"CHK-{981600 + index}" if ach else str(125391000 + index * 7),
        "kind": kind,
        "status": PaymentStatus.APPROVED,
        "amount": _money(rng, 5, 900),
        "occurred_at": datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=97 * index),
        "response_code": rng.choice(("101", "106", "120")),
        "message": rng.choice(("Approved.", "Your transaction was successfully refunded.", "")),
        "customer": customer,
        "auth_code": "" if ach else f"TAS{rng.randint(100, 999)}",
        "token": None
        if ach
        else PaymentToken(customer.gateway_customer_id, f"xxxxxxxxxxxx{rng.randint(0, 9999):04d}"),
    }
    if kind is PaymentKind.REFUND:
        values["original_txn_id"] = str(125390000 + index)
    values.update(changes)
    return Payment(**values)


def _invoice(rng: random.Random, index: int, customer: Customer) -> Invoice:
    amount = _money(rng, 20, 2000)
    return Invoice(
        number=f"CIV-{817 + index:06d}",
        customer_account=customer.account,
        amount=amount,
        open_amount=amount,
        due=date(2025, 4, 1) + timedelta(days=index % 30),
        order_number=f"{1261 + index:06d}",
    )


def _order(rng: random.Random, index: int, customer: Customer, *, numbered: bool) -> Order:
    currency = rng.choice(_CURRENCIES)
    lines = tuple(
        OrderLine(item, rng.randint(1, 5), _money(rng, 3, 300, currency), text)
        for item, text in rng.sample(_ITEMS, rng.randint(1, 3))
    )
    return Order(
        reference=f"WEB-{5500 + index}",
        customer=customer,
        lines=lines,
        currency=currency,
        number=f"{1261 + index:06d}" if numbered else "",
        payment_status=rng.choice(("Authorized", "Paid", "Declined")),
        delivery_address=_address(rng) if rng.random() < 0.5 else None,
    )


def _d365_customer(customer: Customer) -> dict[str, Any]:
    first, *rest = customer.name.split()
    address = customer.billing_address
    return {
        "CustomerAccount": customer.account,
        "OrganizationName": customer.name if customer.is_organization else "",
        "PersonFirstName": "" if customer.is_organization else first,
        "PersonLastName": "" if customer.is_organization else " ".join(rest),
        "AddressStreet": "\n".join(address.lines),
        "AddressCity": address.city,
        "AddressState": address.state,
        "AddressZipCode": address.postal_code,
        "AddressCountryRegionISOCode": address.country.upper(),
        "PrimaryContactEmail": customer.email,
        "PrimaryContactPhone": customer.phone,
    }


def _journal_line(rng: random.Random, index: int) -> dict[str, Any]:
    customer = _customer(rng, index)
    pay = _payment(rng, index, customer, invoice_ref=f"CIV-{817 + index:06d}")
    refund = pay.kind is PaymentKind.REFUND
    context = {
        "journal_batch_number": f"{631 + index // 20:05d}",
        "line_number": index % 20 + 1,
        "operation": "refund" if refund else "payment",
        "payment_reference": f"PT-{pay.gateway_txn_id}-{'REF' if refund else 'PAY'}",
    }
    if refund:
        invoice = {
            "InvoiceNumber": pay.invoice_ref,
            "InvoiceCustomerAccountNumber": customer.account,
        }
        return source_document(pay, context=context, enrich={"d365_invoice": invoice})
    invoice_doc = _invoice(rng, index, customer) if rng.random() < 0.7 else None
    return source_document(pay, invoice=invoice_doc, context=context)


def _customer_record(rng: random.Random, index: int) -> dict[str, Any]:
    return source_document(customer=_customer(rng, index))


def _order_header(rng: random.Random, index: int) -> dict[str, Any]:
    customer = _customer(rng, index)
    order = _order(rng, index, customer, numbered=rng.random() < 0.5)
    pay = _payment(
        rng,
        index,
        customer,
        kind=PaymentKind.AUTHORIZATION,
        amount=_money(rng, 5, 900, order.currency),
        order_ref=order.reference,
    )
    context = {"order_status": order.payment_status.lower()}
    if not order.number:  # a status update reads the order D365 numbered
        number = f"{1261 + index:06d}"
        enrich = {"d365_order": {"SalesOrderNumber": number, "CurrencyCode": order.currency}}
        return source_document(pay, order=order, context=context, enrich=enrich)
    return source_document(pay, order=order, context=context)


def _order_line(rng: random.Random, index: int) -> dict[str, Any]:
    customer = _customer(rng, index)
    order = _order(rng, index, customer, numbered=True)
    position = rng.randrange(len(order.lines))
    return source_document(
        order=order, line=order.lines[position], context={"line_number": position + 1}
    )


def _charge(rng: random.Random, index: int) -> dict[str, Any]:
    customer = _customer(rng, index)
    enrich: dict[str, Any] = {"d365_customer": _d365_customer(customer)}
    if rng.random() < 0.5:
        invoice = _invoice(rng, index, customer)
        context = {"amount": invoice.open_amount.amount}
        return source_document(customer=customer, invoice=invoice, context=context, enrich=enrich)
    order = _order(rng, index, customer, numbered=rng.random() < 0.5)
    total = sum((line.unit_price.amount * line.quantity for line in order.lines), Decimal(0))
    context = {"amount": total, "tax_amount": (total * Decimal("0.1")).quantize(Decimal("0.01"))}
    if order.number:
        enrich["d365_order"] = {
            "SalesOrderNumber": order.number,
            "CustomersOrderReference": order.reference,
        }
    return source_document(customer=customer, order=order, context=context, enrich=enrich)


BUILDERS: dict[str, Callable[[random.Random, int], dict[str, Any]]] = {
    "CustomerPaymentJournalLines": _journal_line,
    "CustomersV3": _customer_record,
    "SalesOrderHeadersV2": _order_header,
    "SalesOrderLines": _order_line,
    "paytrace:transaction_request": _charge,
}


def sample_documents(entity: str, count: int, seed: int = 18) -> list[dict[str, Any]]:
    """``count`` source documents of the flow that fills ``entity``, the same for a seed."""
    rng = random.Random(f"{seed}:{entity}")
    return [BUILDERS[entity](rng, index) for index in range(count)]
