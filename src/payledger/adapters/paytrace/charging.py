"""The ``CardGateway`` port on PayTrace: charges, captures, voids and refunds, answered at once.

Each answer becomes the canonical payment PayTrace's exports will later show for the same
transaction (kind, state, amount, references), so :func:`event_key` gives the poller's key and
the payment is posted once whichever source sees it first. Lost answers are looked up by the
client before anything is resent (see ``session.py``); refusals become a sentence for a person.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.errors import PayTraceRejected
from payledger.adapters.paytrace.outcomes import message_of
from payledger.adapters.paytrace.sale_requests import sale_details, send_charge
from payledger.adapters.paytrace.schemas import PayTraceSaleDetails, PayTraceTransactionResult
from payledger.adapters.paytrace.translate import (
    event_key,
    kind_of,
    lookup_window,
    parse_pacific,
    payment_from_export,
    payment_from_result,
)
from payledger.domain import Customer, Payment, PaymentKind, PaymentStatus
from payledger.domain.charges import (
    CardSource,
    ChargeRecord,
    ChargeReferences,
    PaymentState,
    StoredCard,
)
from payledger.domain.errors import AmbiguousOutcome, RejectedError
from payledger.domain.money import Money

SYSTEM = "paytrace"
LOOKUP_SKEW = timedelta(minutes=5)
"""Clock difference tolerated between payledger and PayTrace when finding a lost charge."""


class PayTraceCardGateway:
    """Implements ``flows.ports.CardGateway`` with a :class:`PayTraceClient`.

    Args:
        client: the connector.
        customer_title: discretionary title that carries the ERP customer account.
        order_title: discretionary title that carries the ERP sales order number.
        titles: the discretionary titles configured on the merchant account.
    """

    source_name = "paytrace"

    def __init__(
        self,
        client: PayTraceClient,
        *,
        customer_title: str = "D365 Customer",
        order_title: str = "D365 Order",
        titles: tuple[str, ...] = ("D365 Order", "D365 Customer"),
    ) -> None:
        self.client = client
        self.currency = client.currency
        self.customer_title = customer_title
        self.order_title = order_title
        self.titles = titles

    def event_id(self, payment: Payment) -> str:
        return event_key(payment)

    def _discretionary(self, refs: ChargeReferences) -> dict[str, str]:
        values = {
            self.customer_title: refs.customer_account,
            self.order_title: refs.sales_order_number,
        }
        return {title: value for title, value in values.items() if value and title in self.titles}

    def _refund_details(self, refs: ChargeReferences) -> PayTraceSaleDetails:
        return PayTraceSaleDetails(  # a refund line never marks the invoice: no invoice_id
            customer_reference_id=refs.sales_order_number or None,
            discretionary_data=self._discretionary(refs) or None,
        )

    async def charge(
        self,
        amount: Money,
        card: CardSource,
        *,
        capture: bool,
        refs: ChargeReferences,
        request: Mapping[str, Any],
    ) -> Payment:
        details = sale_details(request)
        value = amount.amount
        with _human_refusals():
            result = await send_charge(self.client, value, card, details, capture=capture)
        kind = PaymentKind.SALE if capture else PaymentKind.AUTHORIZATION
        payment = self._payment(result, kind, value, refs)
        customer_id = card.customer_id if isinstance(card, StoredCard) else ""
        customer = Customer(name="", account=refs.customer_account, gateway_customer_id=customer_id)
        return replace(payment, customer=customer)

    async def capture(self, original: ChargeRecord, amount: Money) -> Payment:
        with _human_refusals():
            result = await self.client.capture(int(original.gateway_txn_id), amount.amount)
        _require_success(result, "capture")
        payment = self._payment(result, PaymentKind.CAPTURE, amount.amount, _refs(original))
        return replace(
            payment,
            gateway_txn_id=original.gateway_txn_id,
            occurred_at=original.created_at,  # exports date a capture by its authorization
            original_txn_id="",
        )

    async def void(self, original: ChargeRecord) -> Payment:
        with _human_refusals():
            result = await self.client.void(int(original.gateway_txn_id))
        _require_success(result, "void")
        captured = original.state is PaymentState.CAPTURED
        amount = original.captured if captured else original.amount
        payment = self._payment(result, original.kind, amount.amount, _refs(original))
        return replace(
            payment,  # as the export shows it: the original transaction, now voided
            gateway_txn_id=original.gateway_txn_id,
            status=PaymentStatus.VOIDED,
            occurred_at=original.created_at,
            original_txn_id="",
        )

    async def refund(self, original: ChargeRecord, amount: Money) -> Payment:
        refs = _refs(original)
        details = self._refund_details(refs)
        with _human_refusals():
            result = await self.client.refund_transaction(
                int(original.gateway_txn_id), amount.amount, details=details
            )
        _require_success(result, "refund")
        if not result.transaction_id:
            raise AmbiguousOutcome(
                "PayTrace accepted the refund without a transaction id",
                system=SYSTEM,
                operation="refund",
            )
        payment = self._payment(
            result, PaymentKind.REFUND, amount.amount, refs, original=original.gateway_txn_id
        )
        return replace(payment, invoice_ref="")

    async def find_charge(self, refs: ChargeReferences, since: datetime) -> Payment | None:
        if not refs.invoice_number:
            return None
        start, end = lookup_window(since, self.client.clock.now(), self.client.tz)
        records = await self.client.export_transactions(
            start, end, including_text=refs.invoice_number
        )
        charges = [
            record
            for record in records
            if record.invoice_id == refs.invoice_number
            and kind_of(record) is not PaymentKind.REFUND
            and self._created_since(record.created.at, since)
        ]
        if not charges:
            return None
        found = max(charges, key=lambda record: record.transaction_id)
        payment = payment_from_export(found, currency=self.currency, tz=self.client.tz)
        custom = {**self._discretionary(refs), **payment.custom_fields}
        return replace(payment, custom_fields=custom)

    async def find_refund(
        self, original: ChargeRecord, amount: Money, since: datetime
    ) -> Payment | None:
        start, end = lookup_window(since, self.client.clock.now(), self.client.tz)
        records = await self.client.export_transactions(start, end, transaction_type="REFUND")
        details = self._refund_details(_refs(original))
        refunds = [
            record
            for record in records
            if record.amount == amount.amount
            and self._created_since(record.created.at, since)
            and (
                str(record.original_transaction_id) == original.gateway_txn_id
                if record.original_transaction_id is not None  # a sandbox extra: else by refs
                else record.discretionary_data == (details.discretionary_data or {})
                and record.customer_reference_id == (details.customer_reference_id or "")
            )
        ]
        if not refunds:
            return None
        found = max(refunds, key=lambda record: record.transaction_id)
        payment = payment_from_export(found, currency=self.currency, tz=self.client.tz)
        return replace(payment, original_txn_id=original.gateway_txn_id, invoice_ref="")

    def _created_since(self, created: str, since: datetime) -> bool:
        return not created or parse_pacific(created, self.client.tz) >= since - LOOKUP_SKEW

    def _payment(
        self,
        result: PayTraceTransactionResult,
        kind: PaymentKind,
        amount: Decimal,
        refs: ChargeReferences,
        *,
        original: str = "",
    ) -> Payment:
        if not result.transaction_id and kind in (PaymentKind.SALE, PaymentKind.AUTHORIZATION):
            raise RejectedError(
                f"PayTrace answered the {kind.value} without a transaction id: "
                + message_of(result.response_code, success=result.success),
                system=SYSTEM,
                operation=kind.value,
            )
        payment = payment_from_result(
            result,
            kind=kind,
            amount=amount,
            occurred_at=self.client.clock.now(),
            currency=self.currency,
            original_txn_id=original,
            invoice_ref=refs.invoice_number,
        )
        custom = {**self._discretionary(refs), **payment.custom_fields}
        return replace(payment, order_ref=refs.sales_order_number, custom_fields=custom)


def _refs(record: ChargeRecord) -> ChargeReferences:
    return ChargeReferences(
        record.customer_account, record.invoice_number, record.sales_order_number
    )


def _require_success(result: PayTraceTransactionResult, operation: str) -> None:
    if not result.success:
        reason = message_of(
            result.response_code, success=False, processor_text=result.approval_message
        )
        raise RejectedError(
            f"PayTrace did not {operation} the payment: {reason}",
            system=SYSTEM,
            operation=operation,
        )


@contextmanager
def _human_refusals() -> Iterator[None]:
    """Turn PayTrace's coded refusals into a sentence an operator or shop can act on."""
    try:
        yield
    except PayTraceRejected as exc:
        message = message_of(exc.response_code, success=False, errors=exc.errors)
        raise RejectedError(
            f"PayTrace refused the request: {message}",
            system=SYSTEM,
            operation=exc.operation,
            status=exc.status,
        ) from exc
