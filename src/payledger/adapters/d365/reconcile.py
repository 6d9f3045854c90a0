"""D365 for settlement reconciliation: payment lines of a period, and deposit journals.

Implements the ``LedgerLines``, ``PostingFollowUp`` and ``DepositLedger`` ports. Lines are
read with one paged, filtered query (``TransactionDate`` in the window, and
``PaymentReference eq 'PT-*'`` or a hand-keyed payment method), in key order so server paging
is stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import structlog

from payledger.adapters.d365.batch import BatchRequest
from payledger.adapters.d365.client import D365Client
from payledger.adapters.d365.errors import SYSTEM, D365NotFound
from payledger.adapters.d365.odata import (
    Filter,
    ODataQuery,
    any_of,
    field,
    unescape_display_value,
)
from payledger.domain.errors import AmbiguousOutcome, RejectedError
from payledger.domain.money import Money
from payledger.domain.reconcile import InvoiceBalance, LedgerEntry
from payledger.flows.ports import Progress, no_progress

log = structlog.get_logger(__name__)

REFERENCE_PREFIX = "PT-"
_LINE_FIELDS = (
    "dataAreaId",
    "JournalBatchNumber",
    "LineNumber",
    "PaymentReference",
    "AccountType",
    "AccountDisplayValue",
    "TransactionDate",
    "CurrencyCode",
    "CreditAmount",
    "DebitAmount",
    "MarkedInvoice",
)
_CHUNK = 40
"""References per ``or`` filter: short enough for any URL length limit."""


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def ledger_entry(row: Mapping[str, Any], posted: bool) -> LedgerEntry:
    """One ``CustomerPaymentJournalLines`` row (credit positive, debit negative)."""
    currency = str(row.get("CurrencyCode") or "").upper()
    amount = _decimal(row.get("CreditAmount")) - _decimal(row.get("DebitAmount"))
    account = str(row.get("AccountDisplayValue") or "")
    return LedgerEntry(
        line_id=f"{row['JournalBatchNumber']}/{int(_decimal(row['LineNumber']))}",
        reference=str(row.get("PaymentReference") or ""),
        amount=Money(amount, currency).minor if currency else int(amount * 100),
        currency=currency,
        day=date.fromisoformat(str(row["TransactionDate"])[:10]).toordinal(),
        customer=unescape_display_value(account).upper()
        if row.get("AccountType") == "Cust"
        else "",
        posted=posted,
    )


class D365PaymentLines:
    """Implements ``LedgerLines`` on ``CustomerPaymentJournalLines`` of one company."""

    def __init__(
        self,
        client: D365Client,
        *,
        company: str,
        hand_keyed_methods: Sequence[str],
        lines_set: str = "CustomerPaymentJournalLines",
        headers_set: str = "CustomerPaymentJournalHeaders",
        transactions_set: str = "CustTransactions",
    ) -> None:
        self.client = client
        self.company = company
        self.methods = list(hand_keyed_methods)
        self.lines_set = lines_set
        self.headers_set = headers_set
        self.transactions_set = transactions_set
        self._marks: dict[str, str] = {}

    def _lines(self, condition: Filter) -> ODataQuery:
        return (
            ODataQuery(self.lines_set)
            .where(field("dataAreaId").eq(self.company) & condition)
            .select(*_LINE_FIELDS)
            .order_by("JournalBatchNumber", "LineNumber")
        )

    async def lines_between(
        self, first: date, last: date, progress: Progress = no_progress
    ) -> list[LedgerEntry]:
        ours = field("PaymentReference").startswith(REFERENCE_PREFIX)
        by_hand = [field("PaymentMethodName").eq(method) for method in self.methods]
        dated = field("TransactionDate").ge(datetime.combine(first, time.min, UTC)) & field(
            "TransactionDate"
        ).le(datetime.combine(last, time.max.replace(microsecond=0), UTC))
        query = self._lines(dated & any_of(ours, *by_hand))
        total = await self.client.count(query)
        rows: list[dict[str, Any]] = []
        page = await self.client.query_page(query)
        while True:
            rows += page.rows
            progress("D365 payment lines", len(rows), total)
            if not page.next_link:
                break
            page = await self.client.query_page(page.next_link)
        return await self._entries(rows)

    async def lines_with_references(self, references: Sequence[str]) -> list[LedgerEntry]:
        rows: list[dict[str, Any]] = []
        unique = sorted(set(references))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = self._lines(any_of(*(field("PaymentReference").eq(r) for r in chunk)))
            rows += await self.client.collect(query)
        return await self._entries(rows)

    async def _entries(self, rows: list[dict[str, Any]]) -> list[LedgerEntry]:
        posted = await self._posted_journals({str(row["JournalBatchNumber"]) for row in rows})
        entries = [ledger_entry(row, str(row["JournalBatchNumber"]) in posted) for row in rows]
        for row, entry in zip(rows, entries, strict=True):
            if row.get("MarkedInvoice"):
                self._marks[entry.line_id] = str(row["MarkedInvoice"])
        return entries

    async def marked_invoices(self, lines: Sequence[LedgerEntry]) -> dict[str, str]:
        """``PostingFollowUp``: the marks of lines this reader has read (no further query)."""
        return {
            line.line_id: self._marks[line.line_id] for line in lines if line.line_id in self._marks
        }

    async def invoice_balances(self, invoices: Sequence[str]) -> dict[str, InvoiceBalance]:
        """``PostingFollowUp``: open and settled amounts from the customer transactions."""
        sums: dict[str, tuple[Decimal, Decimal, str]] = {}
        unique = sorted(set(invoices))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = (
                ODataQuery(self.transactions_set)
                .where(
                    field("dataAreaId").eq(self.company)
                    & any_of(*(field("Invoice").eq(n) for n in chunk))
                )
                .select("Invoice", "AmountCur", "SettleAmountCur", "CurrencyCode")
            )
            try:
                rows = await self.client.collect(query)
            except D365NotFound:
                # The entity set is an environment's own exposure (UNCERTAIN): without it the
                # "posted but invoice still open" check has nothing to read.
                log.warning("reconcile.no_customer_transactions", entity_set=self.transactions_set)
                return {}
            for row in rows:
                number = str(row["Invoice"])
                amount, settled, _ = sums.get(number, (Decimal(0), Decimal(0), ""))
                sums[number] = (
                    amount + _decimal(row.get("AmountCur")),
                    settled + _decimal(row.get("SettleAmountCur")),
                    str(row.get("CurrencyCode") or "").upper(),
                )
        return {
            number: InvoiceBalance(
                Money(amount - settled, currency).minor, Money(settled, currency).minor
            )
            for number, (amount, settled, currency) in sums.items()
            if currency
        }

    async def _posted_journals(self, numbers: set[str]) -> set[str]:
        posted: set[str] = set()
        ordered = sorted(numbers)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            query = (
                ODataQuery(self.headers_set)
                .where(
                    field("dataAreaId").eq(self.company)
                    & any_of(*(field("JournalBatchNumber").eq(n) for n in chunk))
                )
                .select("JournalBatchNumber", "IsPosted")
            )
            for row in await self.client.collect(query):
                if row.get("IsPosted") == "Yes":
                    posted.add(str(row["JournalBatchNumber"]))
        return posted


class D365DepositJournal:
    """Implements ``DepositLedger`` on ``LedgerJournalHeaders`` / ``LedgerJournalLines``."""

    def __init__(
        self,
        client: D365Client,
        *,
        company: str,
        headers_set: str = "LedgerJournalHeaders",
        lines_set: str = "LedgerJournalLines",
        attempts: int = 3,
    ) -> None:
        self.client = client
        self.company = company
        self.headers_set = headers_set
        self.lines_set = lines_set
        self.attempts = attempts

    def _by_key(self, integration_key: str) -> ODataQuery:
        return ODataQuery(self.headers_set).where(
            field("dataAreaId").eq(self.company) & field("IntegrationKey").eq(integration_key)
        )

    async def journal_with_key(self, integration_key: str) -> str | None:
        row = await self.client.first(self._by_key(integration_key).select("JournalBatchNumber"))
        return str(row["JournalBatchNumber"]) if row else None

    async def open_journal(self, header: Mapping[str, Any]) -> str:
        key = str(header["IntegrationKey"])
        record = await self.client.create_once(self.headers_set, header, self._by_key(key))
        return str(record.values["JournalBatchNumber"])

    async def line_references(self, journal: str) -> set[str]:
        query = (
            ODataQuery(self.lines_set)
            .where(field("dataAreaId").eq(self.company) & field("JournalBatchNumber").eq(journal))
            .select("PaymentReference")
        )
        return {str(row.get("PaymentReference") or "") for row in await self.client.collect(query)}

    async def add_lines(self, journal: str, lines: Sequence[Mapping[str, Any]]) -> None:
        pending = list(lines)
        for attempt in range(1, self.attempts + 1):
            try:
                await self._send(pending)
                return
            except AmbiguousOutcome:
                present = await self.line_references(journal)
                pending = [line for line in pending if line.get("PaymentReference") not in present]
                if not pending:
                    return
                if attempt == self.attempts:
                    raise

    async def _send(self, lines: Sequence[Mapping[str, Any]]) -> None:
        batch = BatchRequest()
        changeset = batch.changeset()
        for line in lines:
            changeset.post(self.lines_set, line)
        outcome = (await self.client.batch(batch)).changesets[0]
        if not outcome.ok:
            failure = outcome.failure
            detail = failure.error.text if failure else "no answer part"
            raise RejectedError(
                f"D365 deposit lines refused: {detail}",
                system=SYSTEM,
                operation="add deposit lines",
                status=failure.status if failure else None,
            )
