"""Recurring billing in D365 F&O: free-text invoices, and the customer's subscription status.

A period's invoice is a free-text invoice draft (``[d365.entity_sets] free_text_invoice_headers``
and ``..._lines``) that carries payledger's key in ``[subscriptions] invoice_key_field``; the
header and its lines go in one ``$batch`` changeset, the lines created through the header's
``FreeTextInvoiceLine`` navigation from a Content-ID reference (``$1/FreeTextInvoiceLine``), so
F&O never holds a header without its lines. The draft is posted by the ``[posting]`` custom
service's ``[subscriptions] invoice_operation``.

UNCERTAIN (the sandbox implements the same choices, docs/sandbox-d365.md): the header key
``InvoiceIdentifier``, the posted number in ``InvoiceId``, the navigation's name, and the
operation's contract ``{"_contract": {"DataAreaId", "InvoiceIdentifier"}}`` answered with
``{"InvoiceIdentifier", "InvoiceId", "IsPosted": true, ...}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payledger.adapters.d365.batch import BatchRequest
from payledger.adapters.d365.errors import SYSTEM, WritesDisabled
from payledger.adapters.d365.journal_service import ServiceOperation
from payledger.adapters.d365.ledger import D365Ledger
from payledger.adapters.d365.odata import ODataQuery
from payledger.adapters.d365.odata import field as odata_field
from payledger.config import PostingSettings, SubscriptionSettings
from payledger.domain.errors import AmbiguousOutcome, AuthError, CurrencyMismatch, RejectedError
from payledger.flows.ports.billing import FreeTextInvoice, InvoiceLine, IssuedInvoice

HEADER_KEY = "InvoiceIdentifier"
LINES_NAVIGATION = "FreeTextInvoiceLine"
CREATE_ATTEMPTS = 3


class D365FreeTextInvoices:
    """Implements ``flows.ports.FreeTextInvoicing`` in the ledger's company."""

    def __init__(
        self, ledger: D365Ledger, subscriptions: SubscriptionSettings, posting: PostingSettings
    ) -> None:
        self.client = ledger.client
        self.company = ledger.settings.company
        self.headers = ledger.sets.free_text_invoice_headers
        self.key_field = subscriptions.invoice_key_field
        self.revenue_account = subscriptions.revenue_account
        self.service = ServiceOperation(
            self.client,
            posting,
            subscriptions.invoice_operation,
            "free-text-invoice posting",
            "[posting] service_group and service, and [subscriptions] invoice_operation,",
            "find the invoice by its key to know whether it was posted",
        )

    async def _draft(self, key: str) -> dict[str, Any] | None:
        query = (
            ODataQuery(self.headers)
            .where(odata_field("dataAreaId").eq(self.company) & odata_field(self.key_field).eq(key))
            .select(HEADER_KEY, "IsPosted", "InvoiceId")
        )
        rows = await self.client.collect(query)
        posted = [row for row in rows if row.get("IsPosted") == "Yes"]
        return next(iter(posted or rows), None)

    async def find(self, key: str) -> IssuedInvoice | None:
        row = await self._draft(key)
        return _issued(key, row) if row else None

    async def create(self, invoice: FreeTextInvoice) -> IssuedInvoice:
        batch = self._batch(invoice)
        found = await self.find(invoice.key)
        if found is not None:
            return found
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                await self._send(batch)
                return IssuedInvoice(invoice.key, "", posted=False)
            except AmbiguousOutcome:
                found = await self.find(invoice.key)
                if found is not None:
                    return found
                if attempt == CREATE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _batch(self, invoice: FreeTextInvoice) -> BatchRequest:
        batch = BatchRequest()
        changes = batch.changeset()
        header = changes.post(
            self.headers,
            {
                "dataAreaId": self.company,
                "CustomerAccount": invoice.customer_account,
                "InvoiceDate": invoice.invoice_date,
                "CurrencyCode": invoice.currency,
                self.key_field: invoice.key,
            },
        )
        for number, line in enumerate(invoice.lines, start=1):
            if line.amount.currency != invoice.currency:
                raise CurrencyMismatch(
                    f"invoice {invoice.key} is in {invoice.currency}; line {number} is in "
                    f"{line.amount.currency}"
                )
            changes.post(f"${header.content_id}/{LINES_NAVIGATION}", self._line(number, line))
        return batch

    def _line(self, number: int, line: InvoiceLine) -> dict[str, Any]:
        body: dict[str, Any] = {
            "LineNumber": Decimal(number),
            "Description": line.description,
            "Quantity": Decimal(1),
            "UnitPrice": line.amount.amount,
        }
        if line.item and not line.ledger_account:
            body["ItemNumber"] = line.item
        else:
            body["MainAccountDisplayValue"] = line.ledger_account or self.revenue_account
        return body

    async def _send(self, batch: BatchRequest) -> None:
        outcome = (await self.client.batch(batch)).changesets[0]
        if not outcome.ok:
            failure = outcome.failure
            raise RejectedError(
                "D365 free-text invoice refused: "
                + (failure.error.text if failure else "no answer part"),
                system=SYSTEM,
                operation="create free-text invoice",
                status=failure.status if failure else None,
            )

    async def post(self, key: str) -> IssuedInvoice:
        row = await self._draft(key)
        if row is None:
            raise RejectedError(
                f"D365 has no free-text invoice with {self.key_field} {key!r} to post",
                system=SYSTEM,
                operation=self.service.name,
            )
        if row.get("IsPosted") == "Yes":
            return _issued(key, row)
        contract = {"DataAreaId": self.company, HEADER_KEY: row[HEADER_KEY]}
        try:
            answer = await self.service.call(contract)
        except (WritesDisabled, AuthError):
            raise
        except (RejectedError, AmbiguousOutcome) as exc:
            found = await self.find(key)
            if found is not None and found.posted:
                return found
            raise exc
        if answer.get("IsPosted") is not True or not answer.get("InvoiceId"):
            found = await self.find(key)
            if found is not None and found.posted:
                return found
            raise self.service.unexpected(200, str(answer).encode())
        return IssuedInvoice(key, str(answer["InvoiceId"]), posted=True)


def _issued(key: str, row: dict[str, Any]) -> IssuedInvoice:
    posted = row.get("IsPosted") == "Yes"
    return IssuedInvoice(key, str(row.get("InvoiceId") or "") if posted else "", posted)


class D365SubscriptionMirror:
    """Implements ``flows.ports.SubscriptionMirror``: ``[subscriptions] status_field`` on the
    customer (nothing when it is empty). Setting a value is idempotent, so a lost answer is
    simply sent again once."""

    def __init__(self, ledger: D365Ledger, subscriptions: SubscriptionSettings) -> None:
        self.client = ledger.client
        self.company = ledger.settings.company
        self.customers = ledger.sets.customers
        self.field = subscriptions.status_field

    async def set_status(self, customer_account: str, status: str) -> None:
        if not self.field:
            return
        key = {"dataAreaId": self.company, "CustomerAccount": customer_account}
        try:
            await self.client.update(self.customers, key, {self.field: status})
        except AmbiguousOutcome:
            await self.client.update(self.customers, key, {self.field: status})
