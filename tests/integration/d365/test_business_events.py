"""Business events: SalesInvoicePostedBusinessEvent envelopes delivered to an HTTPS endpoint."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payledger.adapters.d365.odata import loads
from payledger.adapters.d365.schemas import D365SalesInvoicePostedEvent
from payledger.adapters.d365.translate import invoice_from_event


class Receiver:
    """A stand-in for payledger's business-event webhook that records what arrives."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.received: list[dict] = []
        self.app = Starlette(routes=[Route("/events", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        self.received.append(loads(await request.body()))
        return Response(status_code=self.status)


@pytest.fixture
def receiver(sandbox_settings) -> Receiver:
    receiver = Receiver()
    sandbox_settings.business_events_url = "https://receiver.test/events"
    sandbox_settings.events_transport = httpx.ASGITransport(app=receiver.app)
    sandbox_settings.business_event_retry_interval_s = 0.01
    return receiver


async def test_invoices_created_through_control_api_emit_events(receiver, control):
    first = await control.post(
        "/_sandbox/invoices",
        json={"customer_account": "US-002", "sales_order_number": "000002", "tax_amount": "18.15"},
    )
    second = await control.post(
        "/_sandbox/invoices", json={"customer_account": "US-003", "amount": "99.00"}
    )
    await control.post("/_sandbox/events/flush")

    assert first.status_code == second.status_code == 201
    events = [D365SalesInvoicePostedEvent.model_validate(e) for e in receiver.received]
    assert [e.BusinessEventId for e in events] == ["SalesInvoicePostedBusinessEvent"] * 2
    assert events[0].ControlNumber < events[1].ControlNumber
    assert events[0].SalesOrderId == "000002"
    assert events[0].InvoiceAmountInAccountingCurrency == Decimal("238.15")
    invoice = invoice_from_event(events[1], "USD")
    assert invoice.customer_account == "US-003"
    assert invoice.amount.amount == Decimal("99.00")
    assert invoice.due is not None


async def test_invoice_appears_in_odata_after_posting(receiver, control, client):
    posted = (
        await control.post("/_sandbox/invoices", json={"customer_account": "US-004", "amount": 10})
    ).json()
    key = {
        "dataAreaId": "usmf",
        "InvoiceNumber": posted["invoice"]["InvoiceNumber"],
        "InvoiceDate": date.fromisoformat(posted["invoice"]["InvoiceDate"][:10]),
        "LedgerVoucher": posted["invoice"]["LedgerVoucher"],
    }

    invoice = await client.get("SalesInvoiceHeadersV2", key)

    assert invoice["TotalInvoiceAmount"] == Decimal(10)
    assert invoice["InvoiceDate"].endswith("T12:00:00Z")


async def test_failing_endpoint_is_retried_then_parked(receiver, control):
    receiver.status = 500

    await control.post("/_sandbox/invoices", json={"customer_account": "US-001", "amount": 5})
    deliveries = (await control.post("/_sandbox/events/flush")).json()["deliveries"]

    assert deliveries[-1]["status"] == "failed"
    assert deliveries[-1]["attempts"] == 4
    assert len(receiver.received) == 4
