"""The in-memory store of one sandbox merchant, its number sequences and its change journal."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payledger.sandbox.paytrace import messages
from payledger.sandbox.paytrace.cards import CustomerDeclines
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import (
    AccessToken,
    Batch,
    CheckTransaction,
    CustomerProfile,
    Origin,
    Recurrence,
    Transaction,
)
from payledger.sandbox.paytrace.settings import PayTraceSandboxSettings


@dataclass(frozen=True)
class Change:
    """One change to a transaction or check, as the notifier and the control API see it."""

    type: str
    """``transaction.created|captured|voided|adjusted|settled``, ``check.created|updated``."""
    id_field: str
    id: int
    at: datetime

    def as_event(self) -> dict[str, Any]:
        return {"type": self.type, "data": {self.id_field: self.id}}


class SandboxState:
    """Everything one sandbox merchant holds; deterministic for ``settings.seed``."""

    def __init__(self, settings: PayTraceSandboxSettings) -> None:
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.transactions: dict[int, Transaction] = {}
        self.checks: dict[int, CheckTransaction] = {}
        self.customers: dict[str, CustomerProfile] = {}
        self.batches: dict[int, Batch] = {}
        self.recurrences: dict[int, Recurrence] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.changes: list[Change] = []
        self.customer_declines: dict[str, CustomerDeclines] = {}
        """Declines a test set by vault customer id (the control API's ``/declines``)."""
        self._next_transaction_id = settings.first_transaction_id
        self._next_check_id = settings.first_check_id
        self._next_batch_number = settings.first_batch_number
        self._next_recurrence_id = settings.first_recurrence_id

    def next_transaction_id(self) -> int:
        self._next_transaction_id += 1
        return self._next_transaction_id - 1

    def next_check_id(self) -> int:
        self._next_check_id += 1
        return self._next_check_id - 1

    def next_batch_number(self) -> int:
        self._next_batch_number += 1
        return self._next_batch_number - 1

    def next_recurrence_id(self) -> int:
        self._next_recurrence_id += 1
        return self._next_recurrence_id - 1

    def approval_code(self) -> str:
        return f"TAS{self.rng.randrange(1000):03d}"

    def hex_token(self, nbytes: int) -> str:
        return self.rng.randbytes(nbytes).hex()

    def origin(self, at: datetime, *, through: str = "API", from_ip: str = "") -> Origin:
        return Origin(
            at=at, by=self.settings.api_user, through=through, from_ip=from_ip or "127.0.0.1"
        )

    def record(self, change_type: str, record_id: int, at: datetime) -> None:
        id_field = "check_transaction_id" if change_type.startswith("check.") else "transaction_id"
        self.changes.append(Change(change_type, id_field, record_id, at))

    def transaction(self, transaction_id: int) -> Transaction:
        """The transaction, or error 811."""
        found = self.transactions.get(transaction_id)
        if found is None:
            raise VendorErrors.of(messages.TRANSACTION_NOT_FOUND)
        return found

    def customer(self, customer_id: str) -> CustomerProfile:
        """The vault profile, or error 30."""
        found = self.customers.get(customer_id)
        if found is None:
            raise VendorErrors.of(
                messages.CUSTOMER_NOT_FOUND, messages.customer_not_found(customer_id)
            )
        return found
