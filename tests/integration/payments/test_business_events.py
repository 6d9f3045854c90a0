"""POST /webhooks/d365/business-events: keyed, deduplicated by EventId and ControlNumber; a
posted invoice of a customer with a card on file and auto-pay on is charged once, whatever D365
re-sends."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from payledger.adapters.db.tables import business_events
from payledger.adapters.paytrace import PayTraceSaleDetails
from tests.integration.payments.conftest import (
    EVENTS_KEY,
    drain,
    encrypted_card,
    money,
    post_invoice,
    rows,
)

URL = "/webhooks/d365/business-events"


@pytest.fixture
async def webhook(app):
    """The endpoint as D365 calls it (no API token: the key is in the URL)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
    ) as http:
        yield http


@pytest.fixture
def deliver_events_to_payledger(stage, app):
    """Point the D365 sandbox's HTTPS business-event endpoint at payledger (in-process)."""
    stage.d365.state.settings.events_transport = httpx.ASGITransport(app=app)
    stage.d365.state.settings.update(
        {
            "business_events_url": f"http://payledger.test{URL}?key={EVENTS_KEY}",
            "business_event_retry_interval_s": 0.05,
        }
    )


async def card_on_file(container, paytrace, account: str, *, auto_pay: str = "Yes") -> str:
    customer_id = f"vault-{account.lower()}"
    await paytrace.create_customer(customer_id, card=encrypted_card())
    client = await container.d365_client()
    await client.update(
        "CustomersV3",
        {"dataAreaId": "usmf", "CustomerAccount": account},
        {"PayTraceCustomerId": customer_id, "PayTraceAutoPay": auto_pay},
        etag="*",
    )
    return customer_id


async def sales_for(paytrace, container, invoice: str) -> list:
    today = container.clock.now().date()
    found = await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), including_text=invoice
    )
    return [t for t in found if t.invoice_id == invoice]


async def stored(container) -> list:
    async with container.database.transaction() as conn:
        return (await conn.execute(select(business_events).order_by(business_events.c.id))).all()


@pytest.mark.usefixtures("deliver_events_to_payledger")
async def test_a_posted_invoice_is_charged_to_the_card_on_file_once(
    d365, paytrace, container, webhook
):
    await card_on_file(container, paytrace, "US-003")

    posted = await post_invoice(d365, "US-003", "315.40", tax_amount="25.23")
    await d365.post("/_sandbox/events/flush")
    invoice, envelope = posted["invoice"]["InvoiceNumber"], posted["event"]
    deliveries = (await d365.get("/_sandbox/events")).json()["deliveries"]
    assert [d["status"] for d in deliveries] == ["delivered"]
    await drain(container)

    [sale] = await sales_for(paytrace, container, invoice)
    assert sale.amount == money("340.63")  # the invoice total, tax included
    [line] = await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)
    assert money(line["CreditAmount"]) == money("340.63")
    assert line["PaymentId"] == str(sale.transaction_id)
    [event] = await stored(container)
    assert (event.event_id, event.control_number) == (
        envelope["EventId"],
        envelope["ControlNumber"],
    )
    assert event.status == "charged" and str(sale.transaction_id) in event.outcome

    # D365 sends it again (its retry, or an operator's resend): acknowledged, nothing more
    again = await webhook.post(URL, params={"key": EVENTS_KEY}, json=envelope)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    # a second event for the same invoice (new ids): nothing is open any more
    second = {
        **envelope,
        "EventId": "A-NEW-EVENT-ID",
        "ControlNumber": envelope["ControlNumber"] + 9,
    }
    assert (await webhook.post(URL, params={"key": EVENTS_KEY}, json=second)).json()[
        "status"
    ] == "accepted"
    await drain(container)
    assert len(await sales_for(paytrace, container, invoice)) == 1
    assert len(await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)) == 1
    last = (await stored(container))[-1]
    assert last.status == "skipped" and "nothing open" in last.outcome


@pytest.mark.usefixtures("deliver_events_to_payledger")
async def test_customers_without_auto_pay_or_a_card_are_not_charged(d365, paytrace, container):
    await card_on_file(container, paytrace, "US-004", auto_pay="No")
    off = await post_invoice(d365, "US-004", "50.00")
    none = await post_invoice(d365, "US-006", "20.00")
    await d365.post("/_sandbox/events/flush")
    await drain(container)

    for posted in (off, none):
        assert await sales_for(paytrace, container, posted["invoice"]["InvoiceNumber"]) == []
    outcomes = {event.payload["InvoiceAccount"]: event for event in await stored(container)}
    assert outcomes["US-004"].status == "skipped" and "auto-pay off" in outcomes["US-004"].outcome
    assert (
        outcomes["US-006"].status == "skipped" and "no card on file" in outcomes["US-006"].outcome
    )


async def test_an_interrupted_charge_is_found_not_repeated(d365, paytrace, container, webhook):
    """The worker died after PayTrace charged and before payledger recorded it."""
    customer_id = await card_on_file(container, paytrace, "US-003")
    posted = await post_invoice(d365, "US-003", "77.00")  # no endpoint configured: not delivered
    invoice = posted["invoice"]["InvoiceNumber"]
    accepted = await webhook.post(URL, params={"key": EVENTS_KEY}, json=posted["event"])
    assert accepted.json()["action"] == "auto_pay"
    lost = await paytrace.sale_by_customer(
        money("77.00"), customer_id, details=PayTraceSaleDetails(invoice_id=invoice)
    )
    async with container.database.transaction() as conn:
        await conn.execute(update(business_events).values(status="charging"))

    await drain(container)

    [sale] = await sales_for(paytrace, container, invoice)
    assert sale.transaction_id == lost.transaction_id
    [event] = await stored(container)
    assert event.status == "charged" and "interrupted attempt" in event.outcome
    [line] = await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)
    assert line["PaymentId"] == str(lost.transaction_id)


async def test_other_events_are_stored_and_acknowledged(webhook, container):
    envelope = {
        "BusinessEventId": "CustFreeTextInvoicePostedBusinessEvent",
        "BusinessEventLegalEntity": "USMF",
        "ControlNumber": 5637611999,
        "EventId": "0F6C6D2E-1B53-4C47-9E2B-3D6D1C7E2A10",
        "InvoiceId": "FTI-000042",
    }
    response = await webhook.post(URL, headers={"X-PayLedger-Key": EVENTS_KEY}, json=envelope)
    assert response.status_code == 200
    assert response.json() == {
        "id": response.json()["id"],
        "event_id": envelope["EventId"],
        "status": "accepted",
        "action": "stored",
    }
    [event] = await stored(container)
    assert event.status == "stored" and event.payload["InvoiceId"] == "FTI-000042"
    async with container.database.transaction() as conn:
        assert sum((await container.queue.counts(conn)).values()) == 0


async def test_a_replayed_control_number_is_a_duplicate_even_with_a_new_event_id(webhook):
    envelope = {"BusinessEventId": "X", "EventId": "E-1", "ControlNumber": 42}
    first = await webhook.post(URL, params={"key": EVENTS_KEY}, json=envelope)
    replay = await webhook.post(
        URL, params={"key": EVENTS_KEY}, json={**envelope, "EventId": "E-2"}
    )
    assert first.json()["status"] == "accepted" and replay.json()["status"] == "duplicate"
    assert replay.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("params", "headers", "error"),
    [
        ({}, {}, "missing_key"),
        ({"key": "wrong"}, {}, "invalid_key"),
        ({}, {"X-PayLedger-Key": EVENTS_KEY[:-1]}, "invalid_key"),
    ],
)
async def test_the_endpoint_key_is_required(webhook, container, params, headers, error):
    envelope = {"BusinessEventId": "X", "EventId": "E-1", "ControlNumber": 1}
    response = await webhook.post(URL, params=params, headers=headers, json=envelope)
    assert response.status_code == 401
    assert response.json()["error"] == error
    assert await stored(container) == []


async def test_a_card_number_in_an_event_is_refused_and_not_stored(webhook, container):
    envelope = {"BusinessEventId": "X", "EventId": "E-9", "Note": "card 4012000098765439"}
    response = await webhook.post(URL, params={"key": EVENTS_KEY}, json=envelope)
    assert response.status_code == 422
    assert await stored(container) == []
