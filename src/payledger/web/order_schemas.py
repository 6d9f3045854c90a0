"""What ``/api/v1/orders`` takes and gives: a shop order in, its payment and D365 state out.

Amounts are exact (:data:`~payledger.web.inbound.PositiveAmount`), with no more decimal places
than the order's currency has; booleans are JSON ``true``/``false`` only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from payledger.domain.charges import CardSource, EncryptedCard, ProtectCard, StoredCard
from payledger.domain.errors import DomainError
from payledger.domain.model import Address, Customer, Order, OrderLine, Payment
from payledger.domain.money import Money
from payledger.domain.shop_orders import ShopOrder, ShopOrderRecord, ShopOrderStatus
from payledger.web.inbound import NonNegativeAmount, PositiveAmount

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ORDER_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,49}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_In):
    lines: list[Required] = Field(min_length=1, max_length=3, examples=[["1 Main St", "Suite 5"]])
    city: Required
    state: Text = ""
    postal_code: Text = ""
    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 two-letter code")

    def domain(self) -> Address:
        return Address(
            tuple(self.lines), self.city, self.state, self.postal_code, self.country.upper()
        )


class CustomerIn(_In):
    name: Required
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)
    phone: Text = ""
    is_organization: StrictBool = False
    account: str = Field(
        "", max_length=20, description="The D365 customer account, when the shop knows it"
    )
    billing_address: AddressIn


class LineIn(_In):
    item_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
    ]
    quantity: int = Field(gt=0, le=1_000_000)
    unit_price: PositiveAmount
    description: Text = ""


class ProtectIn(_In):
    """What PayTrace Protect.js returned in the browser."""

    hpf_token: str = Field(min_length=1, max_length=4096)
    enc_key: str = Field(min_length=1, max_length=512)


class EncryptedCardIn(_In):
    """A card number (and CSC) encrypted client-side with PayTrace's key."""

    encrypted_number: str = Field(min_length=1, max_length=4096)
    expiration_month: int = Field(ge=1, le=12)
    expiration_year: int = Field(ge=2000, le=2100)
    encrypted_csc: str = Field("", max_length=4096)


class PaymentIn(_In):
    """Exactly one of: a Protect card, an encrypted card, a PayTrace vault customer id."""

    protect: ProtectIn | None = None
    encrypted_card: EncryptedCardIn | None = None
    vault_customer_id: str | None = Field(None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [self.protect, self.encrypted_card, self.vault_customer_id]
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                "give exactly one of payment.protect, payment.encrypted_card, "
                "payment.vault_customer_id"
            )
        return self

    def card(self) -> CardSource:
        if self.protect is not None:
            return ProtectCard(self.protect.hpf_token, self.protect.enc_key)
        if self.encrypted_card is not None:
            card = self.encrypted_card
            return EncryptedCard(
                card.encrypted_number,
                card.expiration_month,
                card.expiration_year,
                card.encrypted_csc,
            )
        assert self.vault_customer_id is not None
        return StoredCard(self.vault_customer_id)


class OrderCreate(_In):
    """A shop order: the total must be the sum of the lines plus tax and shipping."""

    order_id: str = Field(
        pattern=ORDER_ID, description="The shop's order id (D365 CustomersOrderReference)"
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])
    customer: CustomerIn
    shipping_address: AddressIn | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    tax: NonNegativeAmount = Decimal("0.00")
    shipping: NonNegativeAmount = Decimal("0.00")
    total: PositiveAmount
    payment: PaymentIn

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        self._amounts_fit_the_currency()
        lines = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        expected = lines + self.tax + self.shipping
        if expected != self.total:
            raise ValueError(
                f"total {self.total} is not the sum of the lines ({lines}) + tax ({self.tax}) "
                f"+ shipping ({self.shipping}) = {expected}"
            )
        return self

    def _amounts_fit_the_currency(self) -> None:
        amounts = {f"lines.{n}.unit_price": line.unit_price for n, line in enumerate(self.lines)}
        amounts.update(tax=self.tax, shipping=self.shipping, total=self.total)
        for field, amount in amounts.items():
            try:
                Money.exact(amount, self.currency)
            except DomainError as exc:
                raise ValueError(f"{field}: {exc}") from None

    def domain(self) -> ShopOrder:
        c, currency = self.customer, self.currency
        vault_id = self.payment.vault_customer_id or ""
        customer = Customer(
            name=c.name,
            account=c.account,
            gateway_customer_id=vault_id,
            email=c.email,
            phone=c.phone,
            billing_address=c.billing_address.domain(),
            is_organization=c.is_organization,
        )
        order = Order(
            reference=self.order_id,
            customer=customer,
            lines=tuple(
                OrderLine(
                    line.item_number,
                    line.quantity,
                    Money(line.unit_price, currency),
                    line.description,
                )
                for line in self.lines
            ),
            currency=currency,
            delivery_address=self.shipping_address.domain() if self.shipping_address else None,
        )
        return ShopOrder(
            order,
            Money(self.tax, currency),
            Money(self.shipping, currency),
            Money(self.total, currency),
        )


class PaymentPublic(BaseModel):
    transaction_id: str
    kind: str = Field(description="sale or authorization")
    approved: bool
    amount: Decimal
    currency: str
    response_code: str
    message: str = Field(description="The gateway's answer, for a person (the decline reason)")
    approval_code: str
    masked_card: str


class D365Public(BaseModel):
    customer_account: str
    sales_order_number: str
    payment_status: str = Field(description="Paid, Authorized or Declined")


class OrderPublic(BaseModel):
    order_id: str
    status: ShopOrderStatus
    status_url: str
    detail: str = Field(description="What happened and what comes next, for a person")
    payment: PaymentPublic | None = None
    d365: D365Public | None = None
    error: str | None = None


def _payment(payment: Payment) -> PaymentPublic:
    return PaymentPublic(
        transaction_id=payment.gateway_txn_id,
        kind=payment.kind.value,
        approved=payment.is_approved,
        amount=payment.amount.amount,
        currency=payment.amount.currency,
        response_code=payment.response_code,
        message=payment.message,
        approval_code=payment.auth_code,
        masked_card=payment.token.masked_card if payment.token else "",
    )


def _detail(record: ShopOrderRecord) -> str:
    payment = record.payment
    declined = payment is not None and not payment.is_approved
    reason = payment.message if payment else ""
    if record.status is ShopOrderStatus.DECLINED:
        return f"The card was declined: {reason}. Nothing was created in D365."
    if record.status is ShopOrderStatus.CHARGING:
        return "The card is being charged."
    if record.status is ShopOrderStatus.FAILED:
        return (
            "The payment was taken but D365 refused the order; it waits for an operator "
            f"(payledger replay): {record.error}"
        )
    if record.status is ShopOrderStatus.PENDING:
        held = (
            f"The card was declined ({reason}); the order goes to D365 on hold. "
            if declined
            else ""
        )
        return held + "D365 is slow or unavailable: the order is queued and completes later."
    erp = record.erp
    assert erp is not None
    held = f"The card was declined: {reason}. " if declined else ""
    return (
        f"{held}Sales order {erp.sales_order_number} for customer {erp.customer_account} "
        "is in D365."
    )


def order_public(record: ShopOrderRecord) -> OrderPublic:
    erp = record.erp
    return OrderPublic(
        order_id=record.reference,
        status=record.status,
        status_url=f"/api/v1/orders/{record.reference}",
        detail=_detail(record),
        payment=_payment(record.payment) if record.payment else None,
        d365=D365Public(
            customer_account=erp.customer_account,
            sales_order_number=erp.sales_order_number,
            payment_status=erp.payment_status,
        )
        if erp
        else None,
        error=record.error or None,
    )


def status_code_of(record: ShopOrderRecord) -> int:
    """201 in D365; 202 queued (or failed, waiting for a human); 402 declined."""
    payment = record.payment
    if record.status is ShopOrderStatus.DECLINED or (
        payment is not None and not payment.is_approved
    ):
        return 402
    if record.status is ShopOrderStatus.COMPLETED:
        return 201
    return 202
