"""Customer profiles and recurring payments (fact sheet §4.15, §4.16).

A customer profile keeps a card or bank account on file at PayTrace under a merchant-chosen
customer id (the fact sheet's "vault"); payledger charges it by that id.
"""

from __future__ import annotations

from typing import Any

from payledger.adapters.paytrace.schemas import (
    PayTraceAddress,
    PayTraceCheck,
    PayTraceCustomerDetails,
    PayTraceCustomerProfile,
    PayTraceCustomerResult,
    PayTraceCustomers,
    PayTraceEncryptedCard,
    PayTraceProtectNonce,
    PayTraceRecurrence,
    PayTraceRecurrenceResult,
    PayTraceRecurrenceSpec,
    PayTraceTransaction,
    PayTraceTransactions,
)
from payledger.adapters.paytrace.session import Lookup, PayTraceSession
from payledger.domain import RejectedError


def _masked(profile: PayTraceCustomerProfile) -> str:
    masked = profile.credit_card.masked_number if profile.credit_card else ""
    return masked.replace("*", "x")


class PayTraceProfiles(PayTraceSession):
    """The client's calls on customer profiles and their recurring payments."""

    # ---- customers ---------------------------------------------------------------------------

    async def create_customer(
        self,
        customer_id: str,
        *,
        card: PayTraceEncryptedCard | None = None,
        check: PayTraceCheck | None = None,
        profile: PayTraceCustomerDetails | None = None,
    ) -> PayTraceCustomerResult:
        """Store a card (or bank account) under a merchant-chosen id; 171 when taken."""
        payload: dict[str, Any] = {
            "customer_id": customer_id,
            **(profile.wire() if profile else {}),
        }
        if card is not None:
            payload["credit_card"] = card.wire()
        if check is not None:
            payload["check"] = check.wire()
        return await self._write(
            "create_customer",
            "/v1/customer/create",
            payload,
            PayTraceCustomerResult,
            self._profile_exists(customer_id),
        )

    def _profile_exists(self, customer_id: str) -> Lookup:
        async def find() -> PayTraceCustomerResult | None:
            found = await self.export_customers(customer_id=customer_id)
            if not found:
                return None
            return PayTraceCustomerResult(
                success=True,
                response_code=160,
                customer_id=customer_id,
                masked_card_number=_masked(found[0]),
            )

        return find

    async def create_customer_from_transaction(
        self,
        customer_id: str,
        transaction_id: int,
        *,
        billing_address: PayTraceAddress | None = None,
    ) -> PayTraceCustomerResult:
        """Keep the card of an earlier transaction on file under ``customer_id``."""
        payload: dict[str, Any] = {"customer_id": customer_id, "transaction_id": transaction_id}
        if billing_address is not None:
            payload["billing_address"] = billing_address.wire()
        return await self._write(
            "create_customer_from_transaction",
            "/v1/customer/create_from_transaction",
            payload,
            PayTraceCustomerResult,
            self._profile_exists(customer_id),
        )

    async def update_customer(
        self,
        customer_id: str,
        *,
        new_id: str | None = None,
        card: PayTraceEncryptedCard | None = None,
        profile: PayTraceCustomerDetails | None = None,
    ) -> PayTraceCustomerResult:
        """Change a profile (code 161); ``new_id`` renames it."""
        payload: dict[str, Any] = {
            "customer_id": customer_id,
            **(profile.wire() if profile else {}),
        }
        if new_id is not None:
            payload["new_id"] = new_id
        if card is not None:
            payload["credit_card"] = card.wire()
        return await self._write(
            "update_customer", "/v1/customer/update", payload, PayTraceCustomerResult
        )

    async def update_customer_protect(
        self, customer_id: str, nonce: PayTraceProtectNonce
    ) -> PayTraceCustomerResult:
        """Replace the profile's card with one captured by Protect.js (code 161)."""
        payload = {"customer_id": customer_id, **nonce.wire()}
        return await self._write(
            "update_customer_protect",
            self.paths.protect_customer_update,
            payload,
            PayTraceCustomerResult,
        )

    async def delete_customer(self, customer_id: str) -> PayTraceCustomerResult:
        """Delete a profile (code 162); error 30 when unknown."""
        return await self._write(
            "delete_customer",
            "/v1/customer/delete",
            {"customer_id": customer_id},
            PayTraceCustomerResult,
        )

    async def export_customers(
        self,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        including_text: str | None = None,
    ) -> list[PayTraceCustomerProfile]:
        """Customer profiles, optionally filtered (filters and shape UNCERTAIN)."""
        filters = {"customer_id": customer_id, "email": email, "including_text": including_text}
        payload = {k: v for k, v in filters.items() if v is not None}
        reply = await self._read(
            "export_customers", self.paths.customer_export, payload, PayTraceCustomers
        )
        return reply.customers

    # ---- recurring payments ------------------------------------------------------------------

    async def create_recurrence(
        self, customer_id: str, recurrence: PayTraceRecurrenceSpec
    ) -> PayTraceRecurrence:
        """Schedule charges of a customer profile; never resent when the answer is lost."""
        payload = {"customer_id": customer_id, "recurrence": recurrence.wire()}
        reply = await self._write(
            "create_recurrence", "/v1/recurrence/create", payload, PayTraceRecurrenceResult
        )
        return _one(reply, "create_recurrence")

    async def update_recurrence(
        self, recurrence_id: int, changes: PayTraceRecurrenceSpec
    ) -> PayTraceRecurrence:
        payload = {"recurrence": {**changes.wire(), "id": recurrence_id}}
        reply = await self._write(
            "update_recurrence", self.paths.recurrence_update, payload, PayTraceRecurrenceResult
        )
        return _one(reply, "update_recurrence")

    async def delete_recurrence(
        self, recurrence_id: int | None = None, *, customer_id: str | None = None
    ) -> list[PayTraceRecurrence]:
        """Stop one schedule, or (with ``customer_id``) all of a customer's."""
        if (recurrence_id is None) == (customer_id is None):
            raise ValueError("give exactly one of recurrence_id and customer_id")
        payload: dict[str, Any] = (
            {"recurrence": {"id": recurrence_id}}
            if customer_id is None
            else {"customer_id": customer_id}
        )
        reply = await self._write(
            "delete_recurrence", "/v1/recurrence/delete", payload, PayTraceRecurrenceResult
        )
        return reply.recurrences

    async def export_recurrences(
        self, *, customer_id: str | None = None
    ) -> list[PayTraceRecurrence]:
        payload = {} if customer_id is None else {"customer_id": customer_id}
        reply = await self._read(
            "export_recurrences", self.paths.recurrence_export, payload, PayTraceRecurrenceResult
        )
        return reply.recurrences

    async def export_recurring_transactions(
        self, *, customer_id: str | None = None
    ) -> list[PayTraceTransaction]:
        """Transactions created by schedules (path UNCERTAIN, see ``PayTracePaths``)."""
        payload = {} if customer_id is None else {"customer_id": customer_id}
        reply = await self._read(
            "export_recurring_transactions",
            self.paths.recurrence_export_approved,
            payload,
            PayTraceTransactions,
        )
        return reply.transactions


def _one(reply: PayTraceRecurrenceResult, operation: str) -> PayTraceRecurrence:
    if reply.recurrence is None:
        raise RejectedError(
            "PayTrace answered without a recurrence", system="paytrace", operation=operation
        )
    return reply.recurrence
