"""Business events: ``SalesInvoicePostedBusinessEvent`` and
``CustFreeTextInvoicePostedBusinessEvent`` envelopes POSTed to an HTTPS endpoint.

Sent after the invoice commits, with increasing ``ControlNumber`` values (with gaps), retried
``business_event_retries`` times at ``business_event_retry_interval_s`` intervals, then parked
as failed (fact sheet 8.1).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from payledger.sandbox.d365.auth import object_id
from payledger.sandbox.d365.state import SandboxState
from payledger.sandbox.d365.values import dumps

FIRST_CONTROL_NUMBER = 5637611083
SALES_INVOICE_POSTED = "SalesInvoicePostedBusinessEvent"
FREE_TEXT_INVOICE_POSTED = "CustFreeTextInvoicePostedBusinessEvent"
_TERMS_DAYS = {"net10": 10, "net30": 30, "net45": 45, "net60": 60, "cod": 0}


def ms_date(moment: datetime | date) -> str:
    """The ``/Date(milliseconds)/`` form business-event payloads use."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)})/"


def due_date(invoice_date: date, payment_terms: str) -> date:
    return invoice_date + timedelta(days=_TERMS_DAYS.get(payment_terms.casefold(), 30))


class BusinessEventEmitter:
    """Builds envelopes, delivers them in the background and keeps a delivery log."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.control_number = FIRST_CONTROL_NUMBER
        self.deliveries: list[dict[str, Any]] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._rng = random.Random(state.settings.fault_seed)

    def reset(self) -> None:
        self.control_number = FIRST_CONTROL_NUMBER
        self.deliveries = []

    def invoice_posted(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """The envelope for a posted sales invoice (header values of SalesInvoiceHeadersV2)."""
        return self._invoice_event(SALES_INVOICE_POSTED, invoice)

    def free_text_invoice_posted(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """The envelope for a posted free-text invoice (its SalesInvoiceHeadersV2 values).

        UNCERTAIN: the contract of ``CustFreeTextInvoicePostedBusinessEvent`` is not in the
        fact sheet; the sandbox sends the sales invoice members, without ``SalesOrderId``."""
        envelope = self._invoice_event(FREE_TEXT_INVOICE_POSTED, invoice)
        del envelope["SalesOrderId"]
        return envelope

    def _invoice_event(self, event_id: str, invoice: dict[str, Any]) -> dict[str, Any]:
        self.control_number += self._rng.randint(1, 5)
        now = self.state.clock.now()
        invoice_date = invoice["InvoiceDate"]
        return {
            "BusinessEventId": event_id,
            "BusinessEventLegalEntity": invoice["dataAreaId"].upper(),
            "ContextRecordSubject": "",
            "ControlNumber": self.control_number,
            "EventId": str(uuid.uuid4()).upper(),
            "EventTime": ms_date(now),
            "EventTimeIso8601": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
            "InitiatingUserAADObjectId": "{"
            + object_id(self.state.settings.client_id).upper()
            + "}",
            "MajorVersion": 0,
            "MinorVersion": 0,
            "ParentContextRecordSubjects": [],
            "InvoiceAccount": invoice["InvoiceCustomerAccountNumber"],
            "InvoiceId": invoice["InvoiceNumber"],
            "SalesOrderId": invoice.get("SalesOrderNumber", ""),
            "InvoiceDate": ms_date(invoice_date),
            "InvoiceDueDate": ms_date(due_date(invoice_date, invoice.get("PaymentTermsName", ""))),
            "InvoiceAmountInAccountingCurrency": invoice["TotalInvoiceAmount"],
            "InvoiceTaxAmount": invoice.get("TotalTaxAmount", Decimal(0)),
            "LegalEntity": invoice["dataAreaId"],
        }

    def emit(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """Queue delivery to the configured endpoint; None when no endpoint is configured."""
        url = self.state.settings.business_events_url
        if not url:
            return None
        record = {"envelope": envelope, "url": url, "status": "pending", "attempts": 0}
        self.deliveries.append(record)
        task = asyncio.get_running_loop().create_task(self._deliver(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return record

    async def _deliver(self, record: dict[str, Any]) -> None:
        settings = self.state.settings
        body = dumps(record["envelope"])
        headers = {"Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=settings.events_transport, timeout=10) as client:
            for attempt in range(settings.business_event_retries + 1):
                record["attempts"] = attempt + 1
                try:
                    response = await client.post(record["url"], content=body, headers=headers)
                    if response.is_success:
                        record["status"] = "delivered"
                        return
                    record["last_error"] = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    record["last_error"] = f"{type(exc).__name__}: {exc}"
                if attempt < settings.business_event_retries:
                    await asyncio.sleep(settings.business_event_retry_interval_s)
        record["status"] = "failed"

    async def flush(self) -> None:
        """Wait until every queued delivery has finished (delivered or failed)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
