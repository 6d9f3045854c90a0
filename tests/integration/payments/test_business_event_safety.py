"""A business event never leaves a charge half-done or a value D365 would read as a wildcard:
ids are checked at the door, an event stored before that fails without charging, and one whose
processing gives up is parked (not left ``charging``) with an alert, then replayed safely."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import business_events
from payledger.bootstrap.business_events import PARKED_ALERT
from payledger.config import AlertsSettings, Settings, WorkerSettings
from payledger.stores.business_events import PROCESS_BUSINESS_EVENT, BusinessEvents
from tests.integration.payments.conftest import (
    EVENTS_KEY,
    drain,
    encrypted_card,
    post_invoice,
)

URL = "/webhooks/d365/business-events"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One attempt per job (a failure is final at once: the retry budget is spent); alerts
    are sent at once (to the log: no sink is configured)."""
    worker = WorkerSettings(
        poll_interval_seconds=0.02, backoff_base_seconds=0.05, backoff_cap_seconds=0.2,
        max_attempts=1,
    )  # fmt: skip
    alerts = AlertsSettings(gather_seconds=0)
    return settings.model_copy(update={"worker": worker, "alerts": alerts})


@pytest.fixture
async def webhook(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
    ) as http:
        yield http


async def card_on_file(container, paytrace, account: str) -> None:
    customer_id = f"vault-{account.lower()}"
    await paytrace.create_customer(customer_id, card=encrypted_card())
    client = await container.d365_client()
    await client.update(
        "CustomersV3",
        {"dataAreaId": "usmf", "CustomerAccount": account},
        {"PayTraceCustomerId": customer_id, "PayTraceAutoPay": "Yes"},
        etag="*",
    )


async def stored(container) -> list:
    async with container.database.transaction() as conn:
        return (await conn.execute(select(business_events).order_by(business_events.c.id))).all()


async def sales_for(paytrace, container, invoice: str) -> list:
    today = container.clock.now().date()
    found = await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), including_text=invoice
    )
    return [t for t in found if t.invoice_id == invoice]


def envelope(**fields: object) -> dict[str, object]:
    return {
        "BusinessEventId": "SalesInvoicePostedBusinessEvent",
        "EventId": "E-1",
        "ControlNumber": 7,
        "LegalEntity": "usmf",
        "InvoiceId": "CIV-000900",
        "InvoiceAccount": "US-003",
        **fields,
    }


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"InvoiceId": "CIV-*"}, "InvoiceId"),
        ({"InvoiceAccount": "US-00*"}, "InvoiceAccount"),
        ({"InvoiceId": "CIV'1"}, "InvoiceId"),
        ({"InvoiceAccount": "US 003"}, "InvoiceAccount"),
        ({"LegalEntity": "us*"}, "LegalEntity"),
    ],
)
async def test_an_id_d365_would_not_match_exactly_is_refused_at_the_door(
    webhook, container, changes, named
):
    reply = await webhook.post(URL, params={"key": EVENTS_KEY}, json=envelope(**changes))

    assert reply.status_code == 422, reply.text
    assert named in reply.text and "D365 id" in reply.text
    assert await stored(container) == []
    async with container.database.transaction() as conn:
        assert sum((await container.queue.counts(conn)).values()) == 0


async def test_an_event_stored_before_ids_were_checked_fails_without_charging(
    d365, paytrace, container
):
    await card_on_file(container, paytrace, "US-003")
    posted = await post_invoice(d365, "US-003", "40.00")
    async with container.database.transaction() as conn:  # as an older payledger stored it
        await BusinessEvents(container.queue).accept(
            conn,
            event_id="E-OLD",
            control_number=1,
            business_event_id="SalesInvoicePostedBusinessEvent",
            legal_entity="usmf",
            payload=envelope(InvoiceId="CIV-*"),
        )

    await drain(container)

    [event] = await stored(container)
    assert event.status == "failed" and "wildcard" in event.outcome
    assert await sales_for(paytrace, container, posted["invoice"]["InvoiceNumber"]) == []
    assert await sales_for(paytrace, container, "CIV-*") == []


async def test_an_event_whose_charge_gives_up_is_parked_with_an_alert_then_replayed_once(
    d365, paytrace, container, webhook, stage
):
    await card_on_file(container, paytrace, "US-003")
    posted = await post_invoice(d365, "US-003", "61.00")
    invoice = posted["invoice"]["InvoiceNumber"]
    stage.paytrace.faults.settings.update({"outage": True})
    accepted = await webhook.post(URL, params={"key": EVENTS_KEY}, json=posted["event"])
    assert accepted.json()["action"] == "auto_pay"

    await drain(container)

    [event] = await stored(container)
    assert event.status == "parked" and event.outcome.startswith("gave up:")
    [alert] = [row for row in await container.alerts.store.rows() if row["key"] == PARKED_ALERT]
    assert invoice in alert["text"] and "may have been charged" in alert["text"]
    assert alert["severity"] == "critical" and alert["sent"] == 1

    stage.paytrace.faults.settings.update({"outage": False})
    assert await container.queue.replay(actor="test", kind=PROCESS_BUSINESS_EVENT) == 1
    await drain(container)

    [event] = await stored(container)
    assert event.status == "charged"
    assert len(await sales_for(paytrace, container, invoice)) == 1
