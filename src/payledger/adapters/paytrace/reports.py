"""Read-only PayTrace calls: transaction and batch exports (fact sheet §4.17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from payledger.adapters.paytrace.schemas import (
    PayTraceBatch,
    PayTraceBatches,
    PayTraceCheckRecord,
    PayTraceEnvelope,
    PayTraceTransaction,
    PayTraceTransactions,
)
from payledger.adapters.paytrace.session import PayTraceSession
from payledger.domain import RejectedError

TRANSACTION_TYPES = (
    "SALE",
    "AUTHORIZATION",
    "STR/FWD",
    "REFUND",
    "VOID",
    "SETTLED",
    "PENDING",
    "DECLINED",
)


TRANSACTION_EXPORT = "/v1/transactions/export/by_date_range"


def _date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


@dataclass(frozen=True)
class PayTraceExport:
    """Everything created in a date range: card transactions and check (ACH) transactions."""

    transactions: list[PayTraceTransaction]
    checks: list[PayTraceCheckRecord]


class PayTraceReports(PayTraceSession):
    async def ping(self) -> PayTraceEnvelope:
        """``/v1/ping``: unauthenticated health check."""
        return await self._read("ping", "/v1/ping", {}, PayTraceEnvelope, public=True)

    async def export_transaction(
        self, transaction_id: int, *, include_bin: bool = False
    ) -> PayTraceTransaction:
        """One transaction by id (error 811 when unknown)."""
        payload = {"transaction_id": transaction_id, "include_bin": include_bin}
        reply = await self._read(
            "export_by_id", "/v1/transactions/export/by_id", payload, PayTraceTransactions
        )
        if not reply.transactions:
            raise RejectedError(
                f"transaction {transaction_id} not in the export",
                system="paytrace",
                operation="export_by_id",
            )
        return reply.transactions[0]

    async def export_transactions(
        self,
        start: date,
        end: date,
        *,
        transaction_type: str | None = None,
        customer_id: str | None = None,
        including_text: str | None = None,
        transaction_id: int | None = None,
        include_bin: bool = False,
    ) -> list[PayTraceTransaction]:
        """Transactions created between two vendor-local (Pacific) dates, both inclusive.

        ``transaction_type`` is one of ``TRANSACTION_TYPES``; ``including_text`` searches
        invoice ids, descriptions and the like; ``include_bin`` shows the first six digits.
        """
        if transaction_type is not None and transaction_type not in TRANSACTION_TYPES:
            raise ValueError(f"transaction_type must be one of {TRANSACTION_TYPES}")
        payload: dict[str, Any] = {
            "start_date": _date(start),
            "end_date": _date(end),
            "include_bin": include_bin,
        }
        optional = {
            "transaction_type": transaction_type,
            "customer_id": customer_id,
            "including_text": including_text,
            "transaction_id": transaction_id,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        reply = await self._read(
            "export_by_date_range", TRANSACTION_EXPORT, payload, PayTraceTransactions
        )
        return reply.transactions

    async def export_checks(self, start: date, end: date) -> list[PayTraceCheckRecord]:
        """Check (ACH) transactions created between two vendor-local dates, both inclusive,
        from ``paths.check_export``; none when that path is empty."""
        path = self.paths.check_export
        if not path:
            return []
        payload = {"start_date": _date(start), "end_date": _date(end)}
        reply = await self._read("export_checks", path, payload, PayTraceTransactions)
        return reply.checks

    async def export_payments(self, start: date, end: date) -> PayTraceExport:
        """Card and check transactions created between two vendor-local dates: one request
        when checks come with the transaction export, two when they are exported apart."""
        if self.paths.check_export != TRANSACTION_EXPORT:
            cards = await self.export_transactions(start, end)
            return PayTraceExport(cards, await self.export_checks(start, end))
        payload = {"start_date": _date(start), "end_date": _date(end), "include_bin": False}
        reply = await self._read(
            "export_by_date_range", TRANSACTION_EXPORT, payload, PayTraceTransactions
        )
        return PayTraceExport(reply.transactions, reply.checks)

    async def export_batches(self, start: date, end: date) -> list[PayTraceBatch]:
        """Settlement batches closed between two vendor-local dates."""
        payload = {"start_date": _date(start), "end_date": _date(end)}
        reply = await self._read("export_batches", "/v1/batches/export", payload, PayTraceBatches)
        return reply.batches

    async def export_batch(self, batch_number: int | None = None) -> PayTraceBatch:
        """One batch summary; the latest when ``batch_number`` is omitted."""
        payload = {} if batch_number is None else {self.paths.batch_number_key: batch_number}
        reply = await self._read("export_batch", "/v1/batches/export_one", payload, PayTraceBatches)
        if not reply.batches:
            raise RejectedError(
                "no batch in the export", system="paytrace", operation="export_batch"
            )
        return reply.batches[0]

    async def batch_transactions(self, batch_number: int) -> list[PayTraceTransaction]:
        """The settled transactions of one batch."""
        payload = {self.paths.batch_number_key: batch_number}
        reply = await self._read(
            "batch_transactions", "/v1/batches/transaction_list", payload, PayTraceTransactions
        )
        return reply.transactions
