"""What payledger does in F&O, on top of :class:`D365Client`: journals, lines, lookups.

Entity set names, company, journal names and extension fields come from
:class:`D365Settings`; nothing here hard-codes an environment's setup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from payledger.adapters.d365.batch import BatchRequest
from payledger.adapters.d365.client import D365Client, D365Record
from payledger.adapters.d365.errors import SYSTEM
from payledger.adapters.d365.odata import ODataQuery, any_of
from payledger.adapters.d365.odata import field as odata_field
from payledger.adapters.d365.schemas import (
    D365Customer,
    D365LedgerJournalHeader,
    D365PaymentJournalHeader,
    D365PaymentJournalLine,
    D365SalesInvoiceHeader,
)
from payledger.domain.errors import AmbiguousOutcome, RejectedError


@dataclass(frozen=True)
class D365EntitySets:
    """Entity set names (an environment may use newer versions, e.g. SalesOrderHeadersV4)."""

    customers: str = "CustomersV3"
    sales_orders: str = "SalesOrderHeadersV2"
    sales_order_lines: str = "SalesOrderLines"
    invoices: str = "SalesInvoiceHeadersV2"
    payment_journal_headers: str = "CustomerPaymentJournalHeaders"
    payment_journal_lines: str = "CustomerPaymentJournalLines"
    payment_journal_fees: str = "CustomerPaymentJournalFees"
    settled_invoices: str = "PaymentJournalLineSettledInvoices"
    ledger_journal_headers: str = "LedgerJournalHeaders"
    ledger_journal_lines: str = "LedgerJournalLines"
    payment_methods: str = "CustomerPaymentMethods"
    customer_transactions: str = "CustTransactions"
    free_text_invoice_headers: str = "FreeTextInvoiceHeaders"
    free_text_invoice_lines: str = "FreeTextInvoiceLines"


@dataclass(frozen=True)
class D365Settings:
    """Where and how payledger writes in one legal entity.

    Attributes:
        company: the legal entity (``dataAreaId``), lower case.
        payment_journal_name: journal name of customer payment journals (e.g. ``CustPay``).
        general_journal_name: journal name of general journals (e.g. ``GenJrn``).
        customer_gateway_id_field: extension field on customers holding the PayTrace id.
        order_payment_status_field: extension field on sales order headers for payment status.
    """

    company: str = "usmf"
    entity_sets: D365EntitySets = field(default_factory=D365EntitySets)
    payment_journal_name: str = "CustPay"
    general_journal_name: str = "GenJrn"
    customer_gateway_id_field: str | None = None
    order_payment_status_field: str | None = None


class NaturalKeys:
    """Queries that find a record by the key payledger chose, to resolve lost answers."""

    def __init__(self, settings: D365Settings) -> None:
        self.settings = settings
        self.sets = settings.entity_sets

    def _company(self, entity_set: str) -> ODataQuery:
        return ODataQuery(entity_set).where(odata_field("dataAreaId").eq(self.settings.company))

    def payment_reference(
        self, reference: str, journal_batch_number: str | None = None
    ) -> ODataQuery:
        query = self._company(self.sets.payment_journal_lines).where(
            odata_field("PaymentReference").eq(reference)
        )
        if journal_batch_number:
            query = query.where(odata_field("JournalBatchNumber").eq(journal_batch_number))
        return query

    def integration_key(self, key: str) -> ODataQuery:
        return self._company(self.sets.ledger_journal_headers).where(
            odata_field("IntegrationKey").eq(key)
        )

    def customers_order_reference(self, reference: str) -> ODataQuery:
        return self._company(self.sets.sales_orders).where(
            odata_field("CustomersOrderReference").eq(reference)
        )

    def customer_account(self, account: str) -> ODataQuery:
        return self._company(self.sets.customers).where(odata_field("CustomerAccount").eq(account))


@dataclass
class LinesResult:
    """Lines of one append: those created now and those found already there."""

    created: list[dict[str, Any]] = field(default_factory=list)
    existing: list[dict[str, Any]] = field(default_factory=list)


class D365Ledger:
    """Payment journals, general journals, customers, orders and invoices in one company."""

    def __init__(self, client: D365Client, settings: D365Settings | None = None) -> None:
        self.client = client
        self.settings = settings or D365Settings()
        self.sets = self.settings.entity_sets
        self.keys = NaturalKeys(self.settings)

    async def create_payment_journal(self, description: str) -> D365PaymentJournalHeader:
        body = D365PaymentJournalHeader(
            dataAreaId=self.settings.company,
            JournalName=self.settings.payment_journal_name,
            Description=description,
        ).body()
        record = await self.client.create(self.sets.payment_journal_headers, body)
        return D365PaymentJournalHeader.from_row(record.values)

    async def create_general_journal(
        self, description: str, integration_key: str
    ) -> D365LedgerJournalHeader:
        """A general journal header, created once per ``integration_key``."""
        body = D365LedgerJournalHeader(
            dataAreaId=self.settings.company,
            JournalName=self.settings.general_journal_name,
            Description=description,
            IntegrationKey=integration_key,
        ).body()
        record = await self.client.create_once(
            self.sets.ledger_journal_headers, body, self.keys.integration_key(integration_key)
        )
        return D365LedgerJournalHeader.from_row(record.values)

    async def existing_payment_references(
        self, batch_number: str, references: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Lines of a journal that already carry one of ``references``."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(references), 40):
            chunk = references[start : start + 40]
            query = ODataQuery(self.sets.payment_journal_lines).where(
                odata_field("dataAreaId").eq(self.settings.company)
                & odata_field("JournalBatchNumber").eq(batch_number)
                & any_of(*(odata_field("PaymentReference").eq(r) for r in chunk))
            )
            async for row in self.client.iterate(query):
                found[row["PaymentReference"]] = row
        return found

    async def add_payment_lines(
        self, batch_number: str, lines: Sequence[D365PaymentJournalLine], *, attempts: int = 3
    ) -> LinesResult:
        """Append lines in one atomic changeset; each line must carry a unique PaymentReference.

        After an ambiguous outcome the journal is re-read and only missing lines are sent again.
        """
        result = LinesResult()
        pending = list(lines)
        for attempt in range(1, attempts + 1):
            try:
                result.created += await self._send_lines(pending)
                return result
            except AmbiguousOutcome:
                existing = await self.existing_payment_references(
                    batch_number, [line.PaymentReference for line in pending]
                )
                result.existing += list(existing.values())
                pending = [line for line in pending if line.PaymentReference not in existing]
                if not pending:
                    return result
                if attempt == attempts:
                    raise
        return result

    async def _send_lines(self, lines: Sequence[D365PaymentJournalLine]) -> list[dict[str, Any]]:
        batch = BatchRequest()
        changeset = batch.changeset()
        for line in lines:
            changeset.post(self.sets.payment_journal_lines, line.body())
        response = await self.client.batch(batch)
        outcome = response.changesets[0]
        if not outcome.ok:
            failure = outcome.failure
            detail = failure.error if failure else None
            raise RejectedError(
                f"D365 payment lines refused: {detail.text if detail else 'no answer part'}",
                system=SYSTEM,
                operation="add payment lines",
                status=failure.status if failure else None,
            )
        return [part.json() for part in outcome.parts]

    async def payment_journal(self, batch_number: str) -> D365PaymentJournalHeader:
        record = await self.client.get(
            self.sets.payment_journal_headers,
            {"dataAreaId": self.settings.company, "JournalBatchNumber": batch_number},
        )
        return D365PaymentJournalHeader.from_row(record.values)

    async def customer(self, account: str) -> D365Customer | None:
        row = await self.client.first(self.keys.customer_account(account))
        return D365Customer.from_row(row) if row else None

    async def create_customer(self, customer: D365Customer) -> D365Record:
        return await self.client.create_once(
            self.sets.customers,
            customer.body(),
            self.keys.customer_account(customer.CustomerAccount),
        )

    async def sales_order_by_reference(self, reference: str) -> dict[str, Any] | None:
        return await self.client.first(self.keys.customers_order_reference(reference))

    async def set_order_payment_status(self, sales_order_number: str, status: str) -> None:
        field_name = self.settings.order_payment_status_field
        if not field_name:
            raise ValueError("no order payment status field is configured")
        key = {"dataAreaId": self.settings.company, "SalesOrderNumber": sales_order_number}
        await self.client.update(self.sets.sales_orders, key, {field_name: status})

    async def invoices_of(self, customer_account: str) -> list[D365SalesInvoiceHeader]:
        query = ODataQuery(self.sets.invoices).where(
            odata_field("dataAreaId").eq(self.settings.company)
            & odata_field("InvoiceCustomerAccountNumber").eq(customer_account)
        )
        return [D365SalesInvoiceHeader.from_row(row) async for row in self.client.iterate(query)]
