"""Orders belong to the API client that placed them; a value D365 is queried by is checked
before the card is charged; a paid order that cannot reach D365 is parked, shown and alerted."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from payledger.bootstrap import shop_orders
from payledger.config import AlertsSettings, OrderSettings, WorkerSettings
from payledger.domain import Customer, Money, Order, OrderLine
from payledger.domain.shop_orders import ShopOrder
from payledger.flows.order_to_cash import PARKED_ALERT
from tests.integration.o2c.conftest import (
    api_client,
    drain,
    issue_token,
    o2c_settings,
    open_container,
    order_body,
)

ORDERS = "/api/v1/orders"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def charges(stage) -> int:
    """Every transaction the PayTrace sandbox holds."""
    return len(stage.paytrace.state.transactions)


def charges_of(stage, order_id: str) -> list[Any]:
    return [
        t
        for t in stage.paytrace.state.transactions.values()
        if t.details.get("invoice_id") == order_id
    ]


async def test_an_order_id_another_client_used_is_409_and_the_first_order_is_untouched(
    api, container, stage, d365_rows
):
    first = await api.post(ORDERS, json=order_body("WEB-9001"), headers=key())
    assert first.status_code == 201, first.text
    token = await issue_token(container, "orders:write", "read", client="other-shop")
    other = order_body("WEB-9001", total="21.40", tax="0.00", shipping="0.00")
    other["lines"] = [{"item_number": "T0001", "quantity": 1, "unit_price": "21.40"}]
    other["customer"] = {**other["customer"], "name": "Mallory", "email": "m@evil.example"}

    async with api_client(container, token) as intruder:
        reply = await intruder.post(ORDERS, json=other, headers=key())

    assert reply.status_code == 409, reply.text
    assert reply.json()["error"] == "order_id_taken"
    for secret in ("Grace", "497.18", first.json()["payment"]["transaction_id"], "shop"):
        assert secret not in reply.json()["detail"]
    assert len(charges_of(stage, "WEB-9001")) == 1
    assert (await api.get(f"{ORDERS}/WEB-9001")).json() == first.json()
    assert len(await d365_rows("SalesOrderHeadersV2", CustomersOrderReference="WEB-9001")) == 1


async def test_an_order_is_read_by_its_own_client_and_an_admin_only(api, container):
    placed = await api.post(ORDERS, json=order_body("WEB-9002"), headers=key())
    assert placed.status_code == 201, placed.text
    reader = await issue_token(container, "read", client="reporting")
    writer = await issue_token(container, "orders:write", client="other-shop")
    admin = await issue_token(container, "admin", client="support")

    for token in (reader, writer):
        async with api_client(container, token) as other:
            reply = await other.get(f"{ORDERS}/WEB-9002")
            unknown = await other.get(f"{ORDERS}/WEB-0404")
        assert reply.status_code == 404
        assert reply.json() == {**unknown.json(), "detail": "no shop order 'WEB-9002'"}
    async with api_client(container, admin) as support:
        assert (await support.get(f"{ORDERS}/WEB-9002")).json() == placed.json()


async def test_an_order_stored_before_orders_were_scoped_is_read_by_an_admin_only(api, container):
    line = OrderLine("D0001", 1, Money.of("10.00"))
    legacy = ShopOrder(
        Order("WEB-9003", Customer("Ada", email="ada@example.com"), (line,), "USD"),
        Money.of("0.00"), Money.of("0.00"), Money.of("10.00"),
    )  # fmt: skip

    assert await shop_orders(container).claim(legacy, client="") is None
    admin = await issue_token(container, "admin", client="support")

    assert (await api.get(f"{ORDERS}/WEB-9003")).status_code == 404
    async with api_client(container, admin) as support:
        assert (await support.get(f"{ORDERS}/WEB-9003")).json()["status"] == "charging"


def customer(**changes: Any) -> dict[str, Any]:
    return {**order_body("X")["customer"], **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer": customer(account="US-00*")}, "customer.account"),
        ({"customer": customer(account="O'Brien")}, "customer.account"),
        ({"customer": customer(account="US 001")}, "customer.account"),
        ({"customer": customer(email="*@example.com")}, "customer.email"),
        ({"payment": {"vault_customer_id": "cust-*"}}, "payment.vault_customer_id"),
    ],
)
async def test_a_value_d365_would_not_match_exactly_is_refused_before_paytrace_is_called(
    api, stage, changes, field
):
    before = charges(stage)
    body = order_body("WEB-9004", **changes)

    reply = await api.post(ORDERS, json=body, headers=key())

    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == "invalid_erp_value"
    assert reply.json()["field"] == field and field in reply.json()["detail"]
    assert charges(stage) == before
    assert (await api.get(f"{ORDERS}/WEB-9004")).status_code == 404


async def test_quotes_in_an_email_are_escaped_and_find_the_right_d365_customer(
    api, container, d365_rows
):
    d365 = await container.d365_client()
    await d365.update(
        "CustomersV3",
        {"dataAreaId": "usmf", "CustomerAccount": "US-006"},
        {"PrimaryContactEmail": "o'brien@us-006.example"},
        etag="*",
    )
    customers = len(await d365_rows("CustomersV3"))
    body = order_body(
        "WEB-9005", customer=customer(name="Pat O'Brien", email="o'brien@us-006.example")
    )

    reply = await api.post(ORDERS, json=body, headers=key())

    assert reply.status_code == 201, reply.text
    assert reply.json()["d365"]["customer_account"] == "US-006"
    assert len(await d365_rows("CustomersV3")) == customers


async def test_a_paid_order_d365_refuses_is_parked_shown_and_alerted(api, container, stage):
    body = order_body("WEB-9006", customer=customer(account="US-404"))

    reply = await api.post(ORDERS, json=body, headers=key())

    assert reply.status_code == 202, reply.text
    assert len(charges_of(stage, "WEB-9006")) == 1  # the money moved
    shown = (await api.get(f"{ORDERS}/WEB-9006")).json()
    assert shown["status"] == "failed" and "US-404 does not exist" in shown["error"]
    [alert] = [row for row in await container.alerts.store.rows() if row["key"] == PARKED_ALERT]
    assert "WEB-9006" in alert["text"] and alert["severity"] == "critical"


async def test_a_paid_order_whose_job_gives_up_is_parked_shown_and_alerted(
    database_url: str, tmp_path: Path, stage
):
    settings = o2c_settings(
        database_url,
        tmp_path,
        stage,
        orders=OrderSettings(d365_timeout_seconds=1),
        worker=WorkerSettings(poll_interval_seconds=0.02, max_attempts=1),
        alerts=AlertsSettings(gather_seconds=0),
    )
    container = await open_container(settings)
    try:
        token = await issue_token(container, "orders:write", "read")
        async with api_client(container, token) as api:
            stage.d365.state.faults.settings.update({"outage": True})
            reply = await api.post(ORDERS, json=order_body("WEB-9007"), headers=key())
            assert reply.status_code == 202 and reply.json()["status"] == "pending"

            await drain(container)

            shown = (await api.get(f"{ORDERS}/WEB-9007")).json()
        alerts = await container.alerts.store.rows()
    finally:
        stage.d365.state.faults.settings.update({"outage": False})
        await container.aclose()

    assert shown["status"] == "failed"
    assert shown["error"].startswith("gave up after 1 attempt(s): TransientError")
    assert shown["payment"]["approved"] is True
    [alert] = [row for row in alerts if row["key"] == PARKED_ALERT]
    assert "WEB-9007 was charged" in alert["text"] and alert["sent"] == 1
