"""A realistic trading day at the gateway, driven through payledger's own PayTrace connector.

The shop front end encrypts cards with PayTrace Protect, so payledger never sees a number;
the demo plays that front end with the sandbox's test encryption helper.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from payledger.adapters.paytrace import (
    PayTraceCheck,
    PayTraceClient,
    PayTraceEncryptedCard,
    PayTraceSaleDetails,
)
from payledger.sandbox.paytrace import encrypt_field
from payledger.sandbox.paytrace.demo import DEMO_CUSTOMERS

ACCOUNTS = ("US-001", "US-002", "US-003", "US-004", "US-005")
ORDERS = ("PG-ORDER-1001", "PG-ORDER-1002", "PG-ORDER-1003")
SOFT_DECLINE, HARD_DECLINE = Decimal("1.12"), Decimal("0.29")
CHECK_NOT_PROCESSED = Decimal("1.12")
"""The sandbox answers 125 (not processed) to checks of this amount."""
BANK_ROUTING = "325070760"
"""PayTrace's test routing number (fact sheet §7)."""


@dataclass
class Traffic:
    """What the day sent to PayTrace, by kind."""

    sales: list[int] = field(default_factory=list)
    authorizations: list[int] = field(default_factory=list)
    captures: list[int] = field(default_factory=list)
    declines: list[int] = field(default_factory=list)
    refunds: list[int] = field(default_factory=list)
    voids: list[int] = field(default_factory=list)
    ach_sales: list[int] = field(default_factory=list)
    """Check (ACH) transaction ids, a sequence of their own."""
    ach_refunds: list[int] = field(default_factory=list)
    ach_declines: list[int] = field(default_factory=list)
    ach_voids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in vars(self).values())


class Shop:
    """Charges cards the way a web shop does, with seeded randomness."""

    def __init__(self, client: PayTraceClient, seed: int = 7) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.traffic = Traffic()
        self._invoice = 0
        self._settled = 0
        """How many of ``traffic.sales`` are in settled batches (they can no longer be voided)."""
        self._ach_refunded: set[int] = set()
        """ACH payments that were partly refunded (the demo does not void those)."""

    def _card(self) -> PayTraceEncryptedCard:
        card = self.rng.choice(DEMO_CUSTOMERS)[2]
        return PayTraceEncryptedCard(
            encrypted_number=encrypt_field(card.number),
            expiration_month=card.expiration_month,
            expiration_year=card.expiration_year,
        )

    def _details(self, *, order: str = "") -> PayTraceSaleDetails:
        self._invoice += 1
        return PayTraceSaleDetails(
            invoice_id=f"WEB-{self._invoice:05d}",
            customer_reference_id=order or None,
            discretionary_data={"D365 Customer": self.rng.choice(ACCOUNTS)},
        )

    def _amount(self) -> Decimal:
        return Decimal(self.rng.randint(500, 50_000)).scaleb(-2)

    async def sales(self, count: int) -> None:
        for _ in range(count):
            order = self.rng.choice(ORDERS) if self.rng.random() < 0.05 else ""
            result = await self.client.sale_keyed(
                self._amount(), self._card(), details=self._details(order=order)
            )
            assert result.transaction_id is not None
            self.traffic.sales.append(result.transaction_id)

    async def declines(self, count: int) -> None:
        for index in range(count):
            amount = SOFT_DECLINE if index % 2 else HARD_DECLINE
            result = await self.client.sale_keyed(amount, self._card(), details=self._details())
            assert result.transaction_id is not None
            self.traffic.declines.append(result.transaction_id)

    async def authorizations(self, count: int, *, capture_share: float) -> None:
        for index in range(count):
            order = ORDERS[index % len(ORDERS)] if index < len(ORDERS) else ""
            amount = self._amount()
            auth = await self.client.authorize_keyed(
                amount, self._card(), details=self._details(order=order)
            )
            assert auth.transaction_id is not None
            self.traffic.authorizations.append(auth.transaction_id)
            if self.rng.random() < capture_share:
                await self.client.capture(auth.transaction_id, amount)
                self.traffic.captures.append(auth.transaction_id)

    async def refunds(self, count: int) -> None:
        """Refunds of settled sales (PayTrace refunds only settled ones, error 817)."""
        for txn in self.rng.sample(self.traffic.sales[: self._settled], count):
            refund = await self.client.refund_transaction(txn, Decimal("5.00"))
            assert refund.transaction_id is not None
            self.traffic.refunds.append(refund.transaction_id)

    async def settle(self) -> None:
        """Close the open batch (PayTrace's daily cutoff)."""
        await self.client.settle()
        self._settled = len(self.traffic.sales)

    async def voids(self, count: int) -> None:
        """Sales of the open batch are voided (settled ones cannot be, error 818)."""
        open_batch = self.traffic.sales[self._settled :]
        candidates = [txn for txn in open_batch if txn not in self.traffic.voids]
        for txn in self.rng.sample(candidates, count):
            await self.client.void(txn)
            self.traffic.voids.append(txn)

    def _bank_account(self) -> PayTraceCheck:
        return PayTraceCheck(
            account_number=str(self.rng.randint(10_000_000, 99_999_999)),
            routing_number=BANK_ROUTING,
        )

    async def ach_sales(self, count: int) -> None:
        """Customers paying invoices straight from their bank account (PayTrace checks)."""
        for _ in range(count):
            result = await self.client.check_sale_by_account(
                self._amount(), self._bank_account(), details=self._details()
            )
            assert result.check_transaction_id is not None and result.success
            self.traffic.ach_sales.append(result.check_transaction_id)

    async def ach_declines(self, count: int) -> None:
        """Checks the ACH processor does not accept (answer 125): no ledger line."""
        for _ in range(count):
            result = await self.client.check_sale_by_account(
                CHECK_NOT_PROCESSED, self._bank_account(), details=self._details()
            )
            assert result.check_transaction_id is not None and not result.success
            self.traffic.ach_declines.append(result.check_transaction_id)

    async def ach_refunds(self, count: int) -> None:
        """Part of an ACH payment sent back to the customer's account."""
        refundable = [c for c in self.traffic.ach_sales if c not in self.traffic.ach_voids]
        for check in self.rng.sample(refundable, count):
            refund = await self.client.check_refund(check, Decimal("7.50"))
            assert refund.check_transaction_id is not None
            self.traffic.ach_refunds.append(refund.check_transaction_id)
            self._ach_refunded.add(check)

    async def ach_voids(self, count: int) -> None:
        """The newest unrefunded ACH payments are voided before they settle."""
        candidates = [c for c in reversed(self.traffic.ach_sales) if c not in self._ach_refunded]
        for check in candidates[:count]:
            await self.client.check_void(check)
            self.traffic.ach_voids.append(check)
