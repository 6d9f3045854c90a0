"""A web shop's order on its way to cash: what was ordered, what the card said, where it is in
the ERP. Pure types and rules, plus their JSON form (exact decimals as text)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from payledger.domain.codec import (
    money_from_dict,
    money_to_dict,
    payment_from_dict,
    payment_to_dict,
)
from payledger.domain.erp_keys import check_erp_id, check_erp_lookup
from payledger.domain.errors import DomainError
from payledger.domain.model import Address, Customer, Order, OrderLine, Payment
from payledger.domain.money import Money


class OrderTotalsMismatch(DomainError):
    """The order's total is not the sum of its lines, tax and shipping."""


class ShopOrderStatus(StrEnum):
    CHARGING = "charging"
    """The card is being charged."""
    DECLINED = "declined"
    """The card was declined; nothing was created in the ERP."""
    PENDING = "pending"
    """Paid (or held after a decline); the ERP order is being created."""
    COMPLETED = "completed"
    """Customer, order and lines exist in the ERP."""
    FAILED = "failed"
    """Paid, but the ERP refused the order or never took it; ``error`` says why. It is
    parked for a human (an alert is raised; ``payledger replay`` tries again)."""


@dataclass(frozen=True)
class ShopOrder:
    """An order as the shop sends it; ``order.reference`` is the shop's order id."""

    order: Order
    tax: Money
    shipping: Money
    total: Money

    def __post_init__(self) -> None:
        expected = self.order.total + self.tax + self.shipping
        if expected != self.total:
            raise OrderTotalsMismatch(
                f"order {self.order.reference}: total {self.total.amount} is not lines "
                f"{self.order.total.amount} + tax {self.tax.amount} + shipping "
                f"{self.shipping.amount} = {expected.amount}"
            )

    @property
    def reference(self) -> str:
        return self.order.reference


def check_erp_values(shop: ShopOrder) -> None:
    """Refuse (:class:`~payledger.domain.erp_keys.InvalidErpValue`, naming the field) any
    value the ERP is queried by that could match another record: the order id, the customer
    account, e-mail address and card-on-file id. Run before the card is charged."""
    customer = shop.order.customer
    check_erp_lookup("order_id", shop.reference)
    if customer.account:
        check_erp_id("customer.account", customer.account)
    if customer.email:
        check_erp_lookup("customer.email", customer.email)
    if customer.gateway_customer_id:
        check_erp_lookup("payment.vault_customer_id", customer.gateway_customer_id)


@dataclass(frozen=True)
class ErpReferences:
    """Where the order landed in the ERP."""

    customer_account: str
    sales_order_number: str
    payment_status: str


@dataclass(frozen=True)
class ShopOrderRecord:
    """An order as payledger keeps it."""

    status: ShopOrderStatus
    order: ShopOrder
    payment: Payment | None = None
    erp: ErpReferences | None = None
    error: str = ""
    payment_event: int | None = None
    """The inbox id of the payment's event (it posts the payment to the ledger)."""
    job: int | None = None
    """The job that completes the order in the ERP."""
    client: str = ""
    """The API client that placed the order; empty for orders stored before orders were
    scoped to their client (they belong to no client)."""

    @property
    def reference(self) -> str:
        return self.order.reference

    def belongs_to(self, client: str) -> bool:
        return bool(self.client) and self.client == client


def _address(address: Address) -> dict[str, Any]:
    return {
        "lines": list(address.lines),
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _address_of(data: dict[str, Any]) -> Address:
    return Address(
        tuple(data["lines"]), data["city"], data["state"], data["postal_code"], data["country"]
    )


def _customer(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "account": customer.account,
        "gateway_customer_id": customer.gateway_customer_id,
        "email": customer.email,
        "phone": customer.phone,
        "billing_address": _address(customer.billing_address),
        "is_organization": customer.is_organization,
    }


def _customer_of(data: dict[str, Any]) -> Customer:
    return Customer(
        name=data["name"],
        account=data["account"],
        gateway_customer_id=data["gateway_customer_id"],
        email=data["email"],
        phone=data["phone"],
        billing_address=_address_of(data["billing_address"]),
        is_organization=data["is_organization"],
    )


def shop_order_to_dict(shop: ShopOrder) -> dict[str, Any]:
    order = shop.order
    return {
        "reference": order.reference,
        "currency": order.currency,
        "customer": _customer(order.customer),
        "lines": [
            {
                "item_number": line.item_number,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price.amount),
                "description": line.description,
            }
            for line in order.lines
        ],
        "delivery_address": _address(order.delivery_address) if order.delivery_address else None,
        "tax": money_to_dict(shop.tax),
        "shipping": money_to_dict(shop.shipping),
        "total": money_to_dict(shop.total),
    }


def shop_order_from_dict(data: dict[str, Any]) -> ShopOrder:
    currency = data["currency"]
    delivery = data.get("delivery_address")
    order = Order(
        reference=data["reference"],
        customer=_customer_of(data["customer"]),
        lines=tuple(
            OrderLine(
                line["item_number"],
                int(line["quantity"]),
                Money(Decimal(line["unit_price"]), currency),
                line["description"],
            )
            for line in data["lines"]
        ),
        currency=currency,
        delivery_address=_address_of(delivery) if delivery else None,
    )
    return ShopOrder(
        order,
        money_from_dict(data["tax"]),
        money_from_dict(data["shipping"]),
        money_from_dict(data["total"]),
    )


def record_to_dict(record: ShopOrderRecord) -> dict[str, Any]:
    erp = record.erp
    return {
        "status": record.status.value,
        "order": shop_order_to_dict(record.order),
        "payment": payment_to_dict(record.payment) if record.payment else None,
        "erp": {
            "customer_account": erp.customer_account,
            "sales_order_number": erp.sales_order_number,
            "payment_status": erp.payment_status,
        }
        if erp
        else None,
        "error": record.error,
        "payment_event": record.payment_event,
        "job": record.job,
        "client": record.client,
    }


def record_from_dict(data: dict[str, Any]) -> ShopOrderRecord:
    erp = data.get("erp")
    return ShopOrderRecord(
        status=ShopOrderStatus(data["status"]),
        order=shop_order_from_dict(data["order"]),
        payment=payment_from_dict(data["payment"]) if data.get("payment") else None,
        erp=ErpReferences(**erp) if erp else None,
        error=data.get("error", ""),
        payment_event=data.get("payment_event"),
        job=data.get("job"),
        client=data.get("client", ""),
    )
