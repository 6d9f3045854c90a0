"""The sandbox's free-text invoices: drafts written through OData, posted by the custom service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from payledger.adapters.d365 import D365Client
from payledger.domain.errors import RejectedError
from tests.integration.d365.journals import rows
from tests.integration.d365.test_business_events import Receiver

OPERATION = "/api/services/PayledgerServices/PayledgerJournalService/postFreeTextInvoice"


async def draft(client: D365Client, *prices: str, **header: Any) -> str:
    """A draft of US-001 with one line per price (its ``InvoiceIdentifier``)."""
    created = await client.create(
        "FreeTextInvoiceHeaders",
        {"dataAreaId": "usmf", "CustomerAccount": "US-001", "CustomerReference": "K", **header},
    )
    identifier = str(created["InvoiceIdentifier"])
    for price in prices:
        await client.create(
            "FreeTextInvoiceLines",
            {
                "dataAreaId": "usmf",
                "InvoiceIdentifier": identifier,
                "Description": "Membership",
                "MainAccountDisplayValue": "401100",
                "UnitPrice": Decimal(price),
            },
        )
    return identifier


@pytest.fixture
def post(control, credential):
    """POST a draft's contract to the posting operation with a valid token; the answer."""

    async def post(identifier: str) -> Any:
        return await control.post(
            OPERATION,
            json={"_contract": {"DataAreaId": "usmf", "InvoiceIdentifier": identifier}},
            headers={"Authorization": f"Bearer {await credential.token()}"},
        )

    return post


@pytest.fixture
def receiver(sandbox_settings) -> Receiver:
    receiver = Receiver()
    sandbox_settings.business_events_url = "https://receiver.test/events"
    sandbox_settings.events_transport = httpx.ASGITransport(app=receiver.app)
    return receiver


async def test_a_draft_takes_its_customers_defaults(client, control):
    identifier = await draft(client, "10.00", "2.50")

    [header] = await rows(control, "FreeTextInvoiceHeaders", InvoiceIdentifier=identifier)
    assert identifier.startswith("FTI-")
    assert header["IsPosted"] == "No"
    assert header["InvoiceId"] == ""
    assert header["InvoiceAccount"] == "US-001"
    assert header["CurrencyCode"] == "USD"
    lines = await rows(control, "FreeTextInvoiceLines", InvoiceIdentifier=identifier)
    assert [(line["LineNumber"], line["TransactionCurrencyAmount"]) for line in lines] == [
        (1, 10),
        (2, 2.5),
    ]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ({"CustomerAccount": "NOPE-9"}, "'NOPE-9' in field 'Customer account' is not found"),
        ({"CurrencyCode": "XYZ"}, "'XYZ' in field 'Currency' is not found"),
        ({"CustomerAccount": ""}, "Field 'Customer account' must be filled in"),
    ],
)
async def test_a_draft_for_an_unknown_customer_or_currency_is_refused(
    client, control, header, words
):
    with pytest.raises(RejectedError, match=words):
        await draft(client, **header)
    assert await rows(control, "FreeTextInvoiceHeaders") == []


async def test_lines_need_an_open_draft_and_a_known_account(client, control, post):
    line = {"dataAreaId": "usmf", "MainAccountDisplayValue": "401100", "UnitPrice": 1}
    with pytest.raises(RejectedError, match="'FTI-999999' in field 'Invoice identifier'"):
        await client.create("FreeTextInvoiceLines", {**line, "InvoiceIdentifier": "FTI-999999"})
    identifier = await draft(client, "1.00")
    with pytest.raises(RejectedError, match="'999999' in field 'Main account' is not found"):
        await client.create(
            "FreeTextInvoiceLines",
            {**line, "InvoiceIdentifier": identifier, "MainAccountDisplayValue": "999999"},
        )
    assert (await post(identifier)).status_code == 200
    with pytest.raises(RejectedError, match=f"{identifier} is posted and can't be changed"):
        await client.create("FreeTextInvoiceLines", {**line, "InvoiceIdentifier": identifier})
    with pytest.raises(RejectedError, match="is posted and can't be changed"):
        await client.update(
            "FreeTextInvoiceHeaders",
            {"dataAreaId": "usmf", "InvoiceIdentifier": identifier},
            {"CustomerReference": "changed"},
        )
    assert len(await rows(control, "FreeTextInvoiceLines", InvoiceIdentifier=identifier)) == 1


async def test_posting_books_an_invoice_with_an_open_transaction(client, control, post):
    before = await rows(control, "SalesInvoiceHeadersV2")
    identifier = await draft(client, "40.00", "9.90", CustomerReference="SUB-1-P1")

    answer = await post(identifier)

    assert answer.status_code == 200, answer.text
    number = answer.json()["InvoiceId"]
    assert answer.json()["IsPosted"] is True
    # the same number sequence as every posted invoice: the next one after the seeded ones
    assert number == f"CIV-{len(before) + 1:06d}"
    [invoice] = await rows(control, "SalesInvoiceHeadersV2", InvoiceNumber=number)
    assert invoice["TotalInvoiceAmount"] == 49.9
    assert invoice["InvoiceCustomerAccountNumber"] == "US-001"
    assert invoice["SalesOrderNumber"] == ""
    assert invoice["CustomersOrderReference"] == "SUB-1-P1"
    assert len(await rows(control, "SalesInvoiceLines", InvoiceNumber=number)) == 2
    [transaction] = await rows(control, "CustTransactions", Invoice=number)
    assert (transaction["AmountCur"], transaction["SettleAmountCur"]) == (49.9, 0)
    [header] = await rows(control, "FreeTextInvoiceHeaders", InvoiceIdentifier=identifier)
    assert (header["IsPosted"], header["InvoiceId"]) == ("Yes", number)


async def test_the_service_refuses_what_cannot_be_posted_and_changes_nothing(client, control, post):
    empty = await draft(client)
    posted = await draft(client, "5.00")
    assert (await post(posted)).status_code == 200
    invoices = await rows(control, "SalesInvoiceHeadersV2")

    for identifier, words in [
        (empty, "has no lines and cannot be posted"),
        (posted, "is already posted as CIV-"),
        ("FTI-424242", "FTI-424242 does not exist"),
    ]:
        refused = await post(identifier)
        assert refused.status_code == 500
        assert refused.json()["ExceptionType"] == "XppServicesException"
        assert words in refused.json()["ExceptionMessage"]

    assert await rows(control, "SalesInvoiceHeadersV2") == invoices
    [header] = await rows(control, "FreeTextInvoiceHeaders", InvoiceIdentifier=empty)
    assert header["IsPosted"] == "No"


async def test_posting_emits_the_free_text_invoice_event(client, control, post, receiver):
    identifier = await draft(client, "12.00")
    number = (await post(identifier)).json()["InvoiceId"]
    await control.post("/_sandbox/events/flush")

    [event] = receiver.received
    assert event["BusinessEventId"] == "CustFreeTextInvoicePostedBusinessEvent"
    assert event["InvoiceId"] == number
    assert event["InvoiceAccount"] == "US-001"
    assert event["InvoiceAmountInAccountingCurrency"] == Decimal("12.00")
    assert "SalesOrderId" not in event


async def test_customers_carry_the_subscription_status_field(client, control):
    key = {"dataAreaId": "usmf", "CustomerAccount": "US-002"}
    await client.update("CustomersV3", key, {"PayTraceSubscriptionStatus": "active"})
    [customer] = await rows(control, "CustomersV3", CustomerAccount="US-002")
    assert customer["PayTraceSubscriptionStatus"] == "active"
