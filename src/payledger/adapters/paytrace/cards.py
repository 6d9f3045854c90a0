"""Card transactions: sale, authorization, capture, void, refund, adjust, settle, receipts.

Every method returns the vendor answer; a decline (``success: false``, code 102/103) is a
normal answer, not an exception. ``errors`` answers raise
:class:`~payledger.adapters.paytrace.errors.PayTraceRejected`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from payledger.adapters.paytrace.reports import PayTraceReports
from payledger.adapters.paytrace.schemas import (
    PayTraceAdjustResult,
    PayTraceEncryptedCard,
    PayTraceEnvelope,
    PayTraceProtectKey,
    PayTraceProtectNonce,
    PayTraceSaleDetails,
    PayTraceSettleResult,
    PayTraceTransaction,
    PayTraceTransactionResult,
)
from payledger.adapters.paytrace.session import Lookup
from payledger.adapters.paytrace.translate import kind_of, lookup_window, parse_pacific
from payledger.domain import DomainError, PaymentKind

CENT = Decimal("0.01")


def wire_amount(amount: Decimal) -> str:
    """``Decimal("12.3")`` → ``"12.30"``; refuses floats, non-positive and sub-cent amounts."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise DomainError(f"a PayTrace amount must be a positive Decimal, got {amount!r}")
    if amount != amount.quantize(CENT):
        raise DomainError(f"a PayTrace amount has at most 2 decimals, got {amount}")
    return str(amount.quantize(CENT))


def result_from_export(record: PayTraceTransaction, success_code: int) -> PayTraceTransactionResult:
    """The answer a lost write would have had, rebuilt from its export record."""
    declined = not record.approval_code and record.status_code.upper() in ("", "DECLINED")
    return PayTraceTransactionResult(
        success=not declined,
        response_code=102 if declined else success_code,
        status_message="",
        transaction_id=record.transaction_id,
        approval_code=record.approval_code,
        approval_message=record.approval_message,
        avs_response=record.avs_response,
        csc_response=record.csc_response,
        masked_card_number=record.credit_card.masked_number,
        discretionary_data=record.discretionary_data,
        recovered=True,
    )


class PayTraceCards(PayTraceReports):
    # ---- lookups of lost writes --------------------------------------------------------------

    def _tag(self, details: PayTraceSaleDetails | None) -> tuple[dict[str, Any], str | None]:
        """Wire form of ``details`` plus the text a lookup can find the write by."""
        details = details or PayTraceSaleDetails()
        if self.correlation_field:
            reference = uuid4().hex
            data = {**(details.discretionary_data or {}), self.correlation_field: reference}
            return details.model_copy(update={"discretionary_data": data}).wire(), reference
        return details.wire(), details.invoice_id

    def _created(
        self, text: str | None, txn_type: str, amount: Decimal | None, success_code: int
    ) -> Lookup | None:
        if not text:
            return None
        sent_at = self.clock.now()

        async def find() -> PayTraceTransactionResult | None:
            start, end = lookup_window(sent_at, self.clock.now(), self.tz)
            records = await self.export_transactions(
                start, end, transaction_type=txn_type, including_text=text
            )
            matches = [r for r in records if self._is_result(r, text, amount, sent_at)]
            if not matches:
                return None
            return result_from_export(max(matches, key=lambda r: r.transaction_id), success_code)

        return find

    def _is_result(
        self, record: PayTraceTransaction, text: str, amount: Decimal | None, sent_at: datetime
    ) -> bool:
        if text not in (record.invoice_id, *record.discretionary_data.values()):
            return False
        if amount is not None and record.amount != amount:
            return False
        if not record.created.at:
            return True
        age = (sent_at - parse_pacific(record.created.at, self.tz)).total_seconds()
        return age <= self.retry.lookup_skew_s

    def _state_of(
        self, transaction_id: int, reached: Callable[[PayTraceTransaction], bool], code: int
    ) -> Lookup:
        async def find() -> PayTraceTransactionResult | None:
            record = await self.export_transaction(transaction_id)
            if not reached(record):
                return None
            return PayTraceTransactionResult(
                success=True, response_code=code, transaction_id=transaction_id, recovered=True
            )

        return find

    # ---- sales and authorizations ------------------------------------------------------------

    async def _charge(
        self,
        operation: str,
        path: str,
        amount: Decimal,
        source: dict[str, Any],
        details: PayTraceSaleDetails | None,
        txn_type: str,
    ) -> PayTraceTransactionResult:
        wire, text = self._tag(details)
        payload = {"amount": wire_amount(amount), **source, **wire}
        lookup = self._created(text, txn_type, amount, 106 if txn_type == "REFUND" else 101)
        return await self._write(operation, path, payload, PayTraceTransactionResult, lookup)

    @staticmethod
    def _card(card: PayTraceEncryptedCard, encrypted_csc: str | None) -> dict[str, Any]:
        source: dict[str, Any] = {"credit_card": card.wire()}
        if encrypted_csc:
            source["encrypted_csc"] = encrypted_csc
        return source

    async def sale_keyed(
        self,
        amount: Decimal,
        card: PayTraceEncryptedCard,
        *,
        encrypted_csc: str | None = None,
        details: PayTraceSaleDetails | None = None,
    ) -> PayTraceTransactionResult:
        """Card-not-present sale with a Protect-encrypted card number."""
        return await self._charge(
            "sale_keyed",
            "/v1/transactions/sale/keyed",
            amount,
            self._card(card, encrypted_csc),
            details,
            "SALE",
        )

    async def sale_by_customer(
        self, amount: Decimal, customer_id: str, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceTransactionResult:
        """Sale on the card of a customer profile (error 30 when the profile is unknown)."""
        return await self._charge(
            "sale_by_customer",
            "/v1/transactions/sale/by_customer",
            amount,
            {"customer_id": customer_id},
            details,
            "SALE",
        )

    async def sale_by_transaction(
        self, amount: Decimal, transaction_id: int, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceTransactionResult:
        """Sale re-using the card of an earlier transaction."""
        return await self._charge(
            "sale_by_transaction",
            "/v1/transactions/sale/by_transaction",
            amount,
            {"transaction_id": transaction_id},
            details,
            "SALE",
        )

    async def sale_protect(
        self,
        amount: Decimal,
        nonce: PayTraceProtectNonce,
        *,
        details: PayTraceSaleDetails | None = None,
    ) -> PayTraceTransactionResult:
        """Sale with a PayTrace Protect ``hpf_token`` + ``enc_key``."""
        return await self._charge(
            "sale_protect",
            "/v1/transactions/sale/pt_protect",
            amount,
            nonce.wire(),
            details,
            "SALE",
        )

    async def authorize_keyed(
        self,
        amount: Decimal,
        card: PayTraceEncryptedCard,
        *,
        encrypted_csc: str | None = None,
        details: PayTraceSaleDetails | None = None,
    ) -> PayTraceTransactionResult:
        """Authorization only; capture it later."""
        return await self._charge(
            "authorize_keyed",
            "/v1/transactions/authorization/keyed",
            amount,
            self._card(card, encrypted_csc),
            details,
            "AUTHORIZATION",
        )

    async def authorize_by_customer(
        self, amount: Decimal, customer_id: str, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceTransactionResult:
        return await self._charge(
            "authorize_by_customer",
            "/v1/transactions/authorization/by_customer",
            amount,
            {"customer_id": customer_id},
            details,
            "AUTHORIZATION",
        )

    async def authorize_by_transaction(
        self, amount: Decimal, transaction_id: int, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceTransactionResult:
        return await self._charge(
            "authorize_by_transaction",
            "/v1/transactions/authorization/by_transaction",
            amount,
            {"transaction_id": transaction_id},
            details,
            "AUTHORIZATION",
        )

    async def authorize_protect(
        self,
        amount: Decimal,
        nonce: PayTraceProtectNonce,
        *,
        details: PayTraceSaleDetails | None = None,
    ) -> PayTraceTransactionResult:
        """Protect authorization (v1 path UNCERTAIN: ``paths.protect_authorization``)."""
        return await self._charge(
            "authorize_protect",
            self.paths.protect_authorization,
            amount,
            nonce.wire(),
            details,
            "AUTHORIZATION",
        )

    # ---- follow-ups ---------------------------------------------------------------------------

    async def capture(
        self, transaction_id: int, amount: Decimal | None = None
    ) -> PayTraceTransactionResult:
        """Capture an authorization, fully or (with ``amount``) partly; errors 58/811/816."""
        payload: dict[str, Any] = {"transaction_id": transaction_id}
        if amount is not None:
            payload["amount"] = wire_amount(amount)
        captured = self._state_of(transaction_id, lambda r: kind_of(r) is PaymentKind.CAPTURE, 112)
        return await self._write(
            "capture",
            "/v1/transactions/authorization/capture",
            payload,
            PayTraceTransactionResult,
            captured,
        )

    async def void(self, transaction_id: int) -> PayTraceTransactionResult:
        """Void a transaction pending settlement; errors 58/811/818."""
        voided = self._state_of(transaction_id, lambda r: r.status_code.upper() == "VOIDED", 109)
        return await self._write(
            "void",
            "/v1/transactions/void",
            {"transaction_id": transaction_id},
            PayTraceTransactionResult,
            voided,
        )

    async def refund_transaction(
        self,
        transaction_id: int,
        amount: Decimal | None = None,
        *,
        details: PayTraceSaleDetails | None = None,
    ) -> PayTraceTransactionResult:
        """Refund a settled transaction (all, or ``amount``) as a new transaction; 817 before."""
        wire, text = self._tag(details)
        payload: dict[str, Any] = {"transaction_id": transaction_id, **wire}
        if amount is not None:
            payload["amount"] = wire_amount(amount)
        lookup = self._created(text, "REFUND", amount, 106)
        return await self._write(
            "refund_transaction",
            "/v1/transactions/refund/for_transaction",
            payload,
            PayTraceTransactionResult,
            lookup,
        )

    async def refund_keyed(
        self,
        amount: Decimal,
        card: PayTraceEncryptedCard,
        *,
        details: PayTraceSaleDetails | None = None,
    ) -> PayTraceTransactionResult:
        return await self._charge(
            "refund_keyed",
            "/v1/transactions/refund/keyed",
            amount,
            self._card(card, None),
            details,
            "REFUND",
        )

    async def refund_to_customer(
        self, amount: Decimal, customer_id: str, *, details: PayTraceSaleDetails | None = None
    ) -> PayTraceTransactionResult:
        return await self._charge(
            "refund_to_customer",
            "/v1/transactions/refund/to_customer",
            amount,
            {"customer_id": customer_id},
            details,
            "REFUND",
        )

    async def adjust(self, transaction_id: int, amount: Decimal) -> PayTraceAdjustResult:
        """New amount for an unsettled authorization or refund (≤ 130 % of the original)."""

        async def adjusted() -> PayTraceAdjustResult | None:
            record = await self.export_transaction(transaction_id)
            if record.amount != amount:
                return None
            return PayTraceAdjustResult(
                success=True, response_code=1, transaction_id=transaction_id, amount=amount
            )

        payload = {"transaction_id": transaction_id, "amount": wire_amount(amount)}
        return await self._write(
            "adjust", self.paths.adjust, payload, PayTraceAdjustResult, adjusted
        )

    async def settle(self) -> PayTraceSettleResult:
        """Close the open batch now (sandbox testing aid; never looked up or resent)."""
        return await self._write("settle", "/v1/transactions/settle", {}, PayTraceSettleResult)

    async def email_receipt(self, transaction_id: int, email: str) -> PayTraceEnvelope:
        payload = {"transaction_id": transaction_id, "email": email}
        return await self._write(
            "email_receipt", "/v1/transactions/email_receipt", payload, PayTraceEnvelope
        )

    async def protect_client_key(self) -> str:
        """A client key for PayTrace Protect.js in the browser."""
        reply = await self._read(
            "protect_client_key", "/v1/payment_fields/token/create", {}, PayTraceProtectKey
        )
        return reply.client_key
