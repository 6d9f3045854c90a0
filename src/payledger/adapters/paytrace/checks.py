"""ACH checks (fact sheet §4.14). PayTrace v1 has no check export, so a check write whose
answer is lost cannot be looked up: it raises ``AmbiguousOutcome`` and is never resent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payledger.adapters.paytrace.cards import wire_amount
from payledger.adapters.paytrace.schemas import (
    PayTraceCheck,
    PayTraceCheckResult,
    PayTraceSaleDetails,
)
from payledger.adapters.paytrace.session import PayTraceSession


class PayTraceChecks(PayTraceSession):
    async def _check(
        self, operation: str, path: str, payload: dict[str, Any]
    ) -> PayTraceCheckResult:
        return await self._write(operation, path, payload, PayTraceCheckResult)

    @staticmethod
    def _source(
        amount: Decimal,
        check: PayTraceCheck | None,
        customer_id: str | None,
        details: PayTraceSaleDetails | None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"amount": wire_amount(amount)}
        if check is not None:
            payload["check"] = check.wire()
        if customer_id is not None:
            payload["customer_id"] = customer_id
        return {**payload, **(details.wire() if details else {})}

    async def check_sale_by_account(
        self, amount: Decimal, check: PayTraceCheck, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceCheckResult:
        """Debit a bank account (code 120, or a 125 decline); errors 45/46."""
        payload = self._source(amount, check, None, details)
        return await self._check("check_sale_by_account", "/v1/checks/sale/by_account", payload)

    async def check_sale_by_customer(
        self, amount: Decimal, customer_id: str, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceCheckResult:
        """Debit the bank account of a customer profile; error 30 when unknown."""
        payload = self._source(amount, None, customer_id, details)
        return await self._check("check_sale_by_customer", "/v1/checks/sale/by_customer", payload)

    async def check_hold_by_account(
        self, amount: Decimal, check: PayTraceCheck, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceCheckResult:
        """Hold (authorize) a check; fund it later."""
        payload = self._source(amount, check, None, details)
        return await self._check("check_hold_by_account", "/v1/checks/hold/by_account", payload)

    async def check_hold_by_customer(
        self, amount: Decimal, customer_id: str, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceCheckResult:
        payload = self._source(amount, None, customer_id, details)
        return await self._check("check_hold_by_customer", "/v1/checks/hold/by_customer", payload)

    async def check_refund(
        self, check_transaction_id: int, amount: Decimal | None = None
    ) -> PayTraceCheckResult:
        """Refund a check (code 122); error 80 when unknown, voided or only held."""
        payload: dict[str, Any] = {"check_transaction_id": check_transaction_id}
        if amount is not None:
            payload["amount"] = wire_amount(amount)
        return await self._check("check_refund", "/v1/checks/refund/by_transaction", payload)

    async def check_refund_by_account(
        self, amount: Decimal, check: PayTraceCheck, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceCheckResult:
        """Credit a bank account (path from a single source: ``paths.check_refund_by_account``)."""
        payload = self._source(amount, check, None, details)
        return await self._check(
            "check_refund_by_account", self.paths.check_refund_by_account, payload
        )

    async def check_fund(
        self, check_transaction_id: int, amount: Decimal | None = None
    ) -> PayTraceCheckResult:
        """Fund (capture) a held check (code 124)."""
        payload: dict[str, Any] = {"check_transaction_id": check_transaction_id}
        if amount is not None:
            payload["amount"] = wire_amount(amount)
        return await self._check("check_fund", "/v1/checks/manage/fund", payload)

    async def check_void(self, check_transaction_id: int) -> PayTraceCheckResult:
        """Void a held or unsettled check (code 124); error 80 otherwise."""
        payload = {"check_transaction_id": check_transaction_id}
        return await self._check("check_void", "/v1/checks/manage/void", payload)
