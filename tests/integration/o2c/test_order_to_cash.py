"""A shop order through payledger's API to PayTrace and D365, checked field by field in both
sandboxes: the customer, the order and its lines, the payment journal line and the statuses."""

from __future__ import annotations

import uuid
from decimal import Decimal

from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.config import OrderSettings
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.stores.payment_events import SqlPaymentEventStore
from tests.integration.o2c.conftest import (
    api_client,
    drain,
    encrypted_card,
    issue_token,
    money,
    o2c_settings,
    open_container,
    order_body,
)


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_a_paid_shop_order_lands_in_d365_field_by_field(api, container, stage, d365_rows):
    reply = await api.post("/api/v1/orders", json=order_body("WEB-7001"), headers=key())

    assert reply.status_code == 201, reply.text
    answer = reply.json()
    assert answer["status"] == "completed"
    txn = answer["payment"]["transaction_id"]
    assert answer["payment"]["approved"] is True and answer["payment"]["kind"] == "sale"
    assert answer["payment"]["masked_card"].endswith("5439")
    account, number = answer["d365"]["customer_account"], answer["d365"]["sales_order_number"]
    assert answer["d365"]["payment_status"] == "Paid"
    await drain(container)  # the payment's event posts it to the payment journal

    [customer] = await d365_rows("CustomersV3", CustomerAccount=account)
    assert (customer["PersonFirstName"], customer["PersonLastName"]) == ("Grace", "Hopper")
    assert customer["PartyType"] == "Person"
    assert customer["PrimaryContactEmail"] == "grace+web-7001@example.com"
    assert customer["PrimaryContactPhone"] == "+1-202-555-0199"
    assert customer["AddressStreet"] == "1 Navy Yard\nBuilding 2"
    assert (customer["AddressCity"], customer["AddressState"]) == ("Arlington", "VA")
    assert customer["AddressZipCode"] == "22202"
    assert customer["AddressCountryRegionISOCode"] == "US"
    assert (customer["CustomerGroupId"], customer["SalesCurrencyCode"]) == ("30", "USD")
    assert customer["PayTraceSync"] == "Yes"
    assert customer["PayTraceCustomerId"] == ""  # a Protect card is not a card on file

    [header] = await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-7001")
    assert header["SalesOrderNumber"] == number
    assert header["OrderingCustomerAccountNumber"] == account
    assert header["InvoiceCustomerAccountNumber"] == account
    assert header["CurrencyCode"] == "USD"
    assert header["CustomerRequisitionNumber"] == txn
    assert header["Email"] == "grace+web-7001@example.com"
    assert header["DeliveryAddressName"] == "Grace Hopper"
    assert header["DeliveryAddressStreet"] == "9 Dock Rd"
    assert (header["DeliveryAddressCity"], header["DeliveryAddressStateId"]) == ("Norfolk", "VA")
    assert header["DeliveryAddressZipCode"] == "23511"
    assert header["DeliveryAddressCountryRegionISOCode"] == "US"
    assert header["PaymentStatus"] == "Paid"
    assert header["PaymentAuthId"] == answer["payment"]["approval_code"] != ""
    assert money(header["PaymentAmount"]) == Decimal("497.18")
    assert header["PaymentMessage"] == answer["payment"]["message"]

    lines = sorted(
        await d365_rows("SalesOrderLines", SalesOrderNumber=number), key=lambda r: r["LineNumber"]
    )
    assert [
        (int(r["LineNumber"]), r["ItemNumber"], money(r["OrderedSalesQuantity"]),
         money(r["SalesPrice"]), r["CurrencyCode"])
        for r in lines
    ] == [
        (1, "D0001", Decimal(2), Decimal("200.00"), "USD"),
        (2, "T0001", Decimal(4), Decimal("16.50"), "USD"),
    ]  # fmt: skip
    assert lines[0]["LineDescription"] == "MidRangeSpeaker2"

    [line] = await d365_rows("CustomerPaymentJournalLines", PaymentReference=f"PT-{txn}-PAY")
    assert line["AccountType"] == "Cust"
    assert line["AccountDisplayValue"] == account.replace("-", "\\-")
    assert money(line["CreditAmount"]) == Decimal("497.18") and money(line["DebitAmount"]) == 0
    assert line["CurrencyCode"] == "USD"
    assert line["PaymentId"] == txn
    assert line["PaymentMethodName"] == "ELECTRONIC"
    assert line["OffsetAccountDisplayValue"] == "USMF OPER"

    charged = stage.paytrace.state.transactions[int(txn)]
    assert charged.amount == Decimal("497.18")
    assert charged.details["invoice_id"] == "WEB-7001"
    assert charged.details["customer_reference_id"] == "WEB-7001"
    assert charged.details["shipping_address"]["city"] == "Norfolk"


async def test_the_poller_seeing_the_order_payment_later_does_not_post_it_twice(
    api, container, d365_rows
):
    reply = await api.post("/api/v1/orders", json=order_body("WEB-7002"), headers=key())
    txn = reply.json()["payment"]["transaction_id"]
    await drain(container)

    source = PayTraceGateway(await container.paytrace_client())
    store = SqlPaymentEventStore(container.inbox)
    polled = await poll_payments(PollPayments(), source=source, store=store, clock=container.clock)
    await drain(container)

    assert polled.seen >= 1 and polled.new == 0
    assert (
        len(await d365_rows("CustomerPaymentJournalLines", PaymentReference=f"PT-{txn}-PAY")) == 1
    )


async def test_with_d365_down_the_order_is_accepted_and_completes_later(
    database_url, tmp_path, stage, d365_rows
):
    settings = o2c_settings(
        database_url, tmp_path, stage, orders=OrderSettings(d365_timeout_seconds=1)
    )
    container = await open_container(settings)
    try:
        token = await issue_token(container, "orders:write", "read")
        async with api_client(container, token) as api:
            stage.d365.state.faults.settings.update({"outage": True})
            reply = await api.post("/api/v1/orders", json=order_body("WEB-7003"), headers=key())

            assert reply.status_code == 202, reply.text
            assert reply.json()["status"] == "pending"
            assert reply.json()["status_url"] == "/api/v1/orders/WEB-7003"
            assert reply.json()["payment"]["approved"] is True
            assert await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-7003") == []
            assert (await api.get("/api/v1/orders/WEB-7003")).json()["status"] == "pending"

            stage.d365.state.faults.settings.update({"outage": False})
            await drain(container)

            later = (await api.get("/api/v1/orders/WEB-7003")).json()
        assert later["status"] == "completed"
        [header] = await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-7003")
        assert header["SalesOrderNumber"] == later["d365"]["sales_order_number"]
        assert header["PaymentStatus"] == "Paid"
        assert (
            len(await d365_rows("SalesOrderLines", SalesOrderNumber=header["SalesOrderNumber"]))
            == 2
        )
        txn = later["payment"]["transaction_id"]
        assert (
            len(await d365_rows("CustomerPaymentJournalLines", PaymentReference=f"PT-{txn}-PAY"))
            == 1
        )
    finally:
        await container.aclose()


async def test_a_declined_card_creates_nothing_in_d365_and_says_why(api, container, d365_rows):
    body = order_body(
        "WEB-7004",
        lines=[{"item_number": "T0001", "quantity": 1, "unit_price": "1.12"}],
        tax="0.00",
        shipping="0.00",
        total="1.12",
    )
    customers_before = len(await d365_rows("CustomersV3"))

    reply = await api.post("/api/v1/orders", json=body, headers=key())

    assert reply.status_code == 402, reply.text
    answer = reply.json()
    assert answer["status"] == "declined" and answer["payment"]["approved"] is False
    assert "Do not honor" in answer["payment"]["message"]
    assert "declined" in answer["detail"] and "Do not honor" in answer["detail"]
    assert answer["d365"] is None
    await drain(container)
    assert await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-7004") == []
    assert len(await d365_rows("CustomersV3")) == customers_before
    assert (await api.get("/api/v1/orders/WEB-7004")).json()["status"] == "declined"


async def test_a_card_on_file_pays_and_its_token_lands_on_the_d365_customer(
    api, container, shop, d365_rows
):
    vaulted = await shop.create_customer("cust-hopper", card=encrypted_card())
    assert vaulted.success
    body = order_body("WEB-7005", payment={"vault_customer_id": "cust-hopper"})

    reply = await api.post("/api/v1/orders", json=body, headers=key())
    assert reply.status_code == 201, reply.text
    await drain(container)

    account = reply.json()["d365"]["customer_account"]
    [customer] = await d365_rows("CustomersV3", CustomerAccount=account)
    assert customer["PayTraceCustomerId"] == "cust-hopper"
    txn = reply.json()["payment"]["transaction_id"]
    [line] = await d365_rows("CustomerPaymentJournalLines", PaymentReference=f"PT-{txn}-PAY")
    assert line["AccountDisplayValue"] == account.replace("-", "\\-")


async def test_authorizing_instead_of_selling_leaves_the_order_authorized_and_unposted(
    database_url, tmp_path, stage, d365_rows
):
    settings = o2c_settings(
        database_url, tmp_path, stage, orders=OrderSettings(transaction="authorization")
    )
    container = await open_container(settings)
    try:
        token = await issue_token(container, "orders:write")
        async with api_client(container, token) as api:
            reply = await api.post("/api/v1/orders", json=order_body("WEB-7006"), headers=key())
        await drain(container)
    finally:
        await container.aclose()

    assert reply.status_code == 201, reply.text
    assert reply.json()["payment"]["kind"] == "authorization"
    [header] = await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-7006")
    assert header["PaymentStatus"] == "Authorized"
    assert money(header["PaymentAmount"]) == Decimal("497.18")
    txn = reply.json()["payment"]["transaction_id"]
    assert await d365_rows("CustomerPaymentJournalLines", PaymentId=txn) == []  # not money yet


async def test_with_hold_on_decline_the_declined_order_is_in_d365_marked_declined(
    database_url, tmp_path, stage, d365_rows
):
    settings = o2c_settings(database_url, tmp_path, stage, orders=OrderSettings(on_decline="hold"))
    body = order_body(
        "WEB-7007",
        lines=[{"item_number": "T0001", "quantity": 1, "unit_price": "1.12"}],
        tax="0.00",
        shipping="0.00",
        total="1.12",
    )
    container = await open_container(settings)
    try:
        token = await issue_token(container, "orders:write")
        async with api_client(container, token) as api:
            reply = await api.post("/api/v1/orders", json=body, headers=key())
        await drain(container)
    finally:
        await container.aclose()

    assert reply.status_code == 402, reply.text
    answer = reply.json()
    assert answer["status"] == "completed" and answer["d365"]["payment_status"] == "Declined"
    [header] = await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-7007")
    assert header["PaymentStatus"] == "Declined"
    assert "Do not honor" in header["PaymentMessage"]
    assert len(await d365_rows("SalesOrderLines", SalesOrderNumber=header["SalesOrderNumber"])) == 1
    txn = answer["payment"]["transaction_id"]
    assert await d365_rows("CustomerPaymentJournalLines", PaymentId=txn) == []
