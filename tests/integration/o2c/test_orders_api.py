"""The contract of ``POST /api/v1/orders`` and ``GET /api/v1/orders/{id}``: authentication,
every Idempotency-Key case, validation that names what is wrong, one charge per order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from payledger.engine.idempotency import fingerprint
from tests.integration.o2c.conftest import api_client, issue_token, order_body

ORDERS = "/api/v1/orders"


def key(value: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": value or str(uuid.uuid4())}


def charges_of(stage, order_id: str) -> list[Any]:
    return [
        t
        for t in stage.paytrace.state.transactions.values()
        if t.details.get("invoice_id") == order_id
    ]


async def test_the_openapi_document_describes_the_orders_endpoints(api):
    document = (await api.get("/openapi.json")).json()
    post = document["paths"][ORDERS]["post"]
    assert {"201", "202", "400", "401", "402", "403", "409", "422"} <= set(post["responses"])
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"]]
    assert "/api/v1/orders/{order_id}" in document["paths"]


async def test_without_a_token_the_answer_is_401(container):
    async with api_client(container, "not-a-token") as api:
        reply = await api.post(ORDERS, json=order_body("WEB-8001"), headers=key())
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_token"


async def test_a_token_without_orders_write_gets_403(container):
    token = await issue_token(container, "payments:write", client="billing")
    async with api_client(container, token) as api:
        reply = await api.post(ORDERS, json=order_body("WEB-8002"), headers=key())
    assert reply.status_code == 403
    assert "orders:write" in reply.json()["detail"]


async def test_without_an_idempotency_key_the_answer_is_400_and_nothing_is_charged(api, stage):
    reply = await api.post(ORDERS, json=order_body("WEB-8003"))
    assert reply.status_code == 400
    assert reply.json()["error"] == "idempotency_key_missing"
    assert charges_of(stage, "WEB-8003") == []


async def test_a_retry_with_the_same_key_replays_the_first_answer(api, stage):
    body, same = order_body("WEB-8004"), key()
    first = await api.post(ORDERS, json=body, headers=same)

    again = await api.post(ORDERS, json=body, headers=same)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(charges_of(stage, "WEB-8004")) == 1


async def test_the_same_key_with_another_body_is_refused_with_422(api, stage):
    same = key()
    await api.post(ORDERS, json=order_body("WEB-8005"), headers=same)

    other = await api.post(ORDERS, json=order_body("WEB-8006"), headers=same)

    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert charges_of(stage, "WEB-8006") == []


async def test_a_retry_while_the_first_request_is_in_flight_gets_409(api, container, stage):
    body, same = order_body("WEB-8007"), key("in-flight-1")
    async with container.database.transaction() as conn:
        await container.idempotency.claim(
            conn, "shop", "in-flight-1", fingerprint("POST", ORDERS, body)
        )

    reply = await api.post(ORDERS, json=body, headers=same)

    assert reply.status_code == 409
    assert reply.json()["error"] == "idempotency_key_in_flight"
    assert charges_of(stage, "WEB-8007") == []


async def test_an_order_id_is_charged_once_even_under_a_new_key(api, stage):
    body = order_body("WEB-8008")
    first = await api.post(ORDERS, json=body, headers=key())

    second = await api.post(ORDERS, json=body, headers=key())

    assert second.status_code == 201
    assert second.json()["payment"] == first.json()["payment"]
    assert second.json()["d365"] == first.json()["d365"]
    assert len(charges_of(stage, "WEB-8008")) == 1


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"total": "490.00"}, "total 490.00 is not the sum of the lines (466.00) + tax (21.28)"),
        ({"lines": []}, "at least 1 item"),
        ({"payment": {"vault_customer_id": "c-1", "protect": {"hpf_token": "t", "enc_key": "k"}}},
         "exactly one of payment.protect"),
        ({"payment": {}}, "exactly one of payment.protect"),
        ({"tax": "-1.00"}, "greater than or equal to 0"),
        ({"total": "497.181"}, "decimal places"),
        ({"order_id": "has spaces"}, "should match pattern"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)  # fmt: skip
async def test_an_invalid_order_is_refused_with_422_naming_the_problem(api, stage, changes, says):
    body = {**order_body("WEB-8009"), **changes}

    reply = await api.post(ORDERS, json=body, headers=key())

    assert reply.status_code == 422, reply.text
    assert says in reply.text
    assert charges_of(stage, "WEB-8009") == []


async def test_an_order_in_another_currency_is_refused(api):
    body = order_body("WEB-8010", currency="EUR")
    reply = await api.post(ORDERS, json=body, headers=key())
    assert reply.status_code == 422
    assert reply.json()["error"] == "currency_not_accepted"


async def test_a_card_number_in_the_body_is_refused_before_anything_is_stored(api, stage):
    body = order_body("WEB-8011")
    body["lines"][0]["description"] = "card 4012000098765439"
    reply = await api.post(ORDERS, json=body, headers=key())
    assert reply.status_code == 422
    assert "card" in reply.text.lower()
    assert charges_of(stage, "WEB-8011") == []
    assert (await api.get(f"{ORDERS}/WEB-8011")).status_code == 404


async def test_an_unknown_vault_customer_is_refused_and_the_order_may_be_paid_again(api, stage):
    refused = await api.post(
        ORDERS, json=order_body("WEB-8012", payment={"vault_customer_id": "nobody"}), headers=key()
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == "payment_rejected"
    assert "nobody" in refused.json()["detail"]

    paid = await api.post(ORDERS, json=order_body("WEB-8012"), headers=key())
    assert paid.status_code == 201


async def test_an_unknown_order_is_404_and_reading_needs_a_token(api, container):
    missing = await api.get(f"{ORDERS}/WEB-0000")
    assert missing.status_code == 404 and missing.json()["error"] == "order_not_found"
    async with api_client(container, "nope") as anonymous:
        assert (await anonymous.get(f"{ORDERS}/WEB-0000")).status_code == 401
