"""Loose money, loose booleans and non-finite numbers are refused with a 4xx naming the field, on
every endpoint that takes them, before any work (nothing is claimed, nothing is charged)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import idempotency_keys
from tests.integration.api.conftest import bearer

PAYMENTS = "/api/v1/payments"
ORDERS = "/api/v1/orders"
EVENTS = "/webhooks/d365/business-events"
EVENTS_KEY = "d365-events-key-0123456789abcdef"
VAULT = b'{"type": "vault_customer", "customer_id": "c"}'

LOOSE_AMOUNTS = [
    ("1E-2", "exponent"),
    (" 1.00", "spaces"),
    ("\uff11.\uff10\uff10", "ASCII digits"),  # full-width 1.00
    ("+1.00", "sign"),
    ("-1.00", "sign"),
    ("1.005", "USD amounts have at most 2 decimal places"),
    ("1,00", "decimal number"),
]


def payment(**changes: Any) -> dict[str, Any]:
    method = {"type": "vault_customer", "customer_id": "shop-cust-1"}
    return {"invoice": "CIV-000817", "payment_method": method, **changes}


def order(**changes: Any) -> dict[str, Any]:
    address = {"lines": ["1 Navy Yard"], "city": "Arlington", "country": "US"}
    customer = {"name": "Grace Hopper", "email": "grace@example.com", "billing_address": address}
    line = {"item_number": "D0001", "quantity": 2, "unit_price": "200.00"}
    body = {
        "order_id": "WEB-9001",
        "currency": "USD",
        "customer": customer,
        "lines": [line],
        "total": "400.00",
        "payment": {"vault_customer_id": "shop-cust-1"},
    }
    return {**body, **changes}


@pytest.fixture
async def headers(issue_token) -> dict[str, str]:
    token = await issue_token("webshop", "payments:write", "orders:write")
    return {**bearer(token), "Content-Type": "application/json"}


async def send(http, path: str, headers: dict[str, str], body: dict[str, Any] | bytes):
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    return await http.post(path, content=content, headers=keyed)


def named(response) -> dict[str, str]:
    """The refusal's problems, field → what is wrong."""
    return {p["field"]: p["problem"] for p in response.json()["problems"]}


async def nothing_claimed(container) -> bool:
    async with container.database.transaction() as conn:
        return await conn.scalar(select(func.count()).select_from(idempotency_keys)) == 0


@pytest.mark.parametrize(("amount", "says"), LOOSE_AMOUNTS)
@pytest.mark.parametrize(
    "path", [PAYMENTS, f"{PAYMENTS}/123456/capture", f"{PAYMENTS}/123456/refund"]
)
async def test_a_loose_payment_amount_is_refused_naming_the_field(
    http, headers, container, path, amount, says
):
    body = payment(amount=amount) if path == PAYMENTS else {"amount": amount}
    response = await send(http, path, headers, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_body"
    assert says in named(response)["body.amount"]
    assert await nothing_claimed(container)


@pytest.mark.parametrize("capture", ["yes", "true", 1, 0, None])
async def test_capture_is_a_json_boolean_only(http, headers, capture):
    response = await send(http, PAYMENTS, headers, payment(capture=capture))
    assert response.status_code == 422
    assert "body.capture" in named(response)


async def test_a_float_amount_the_payments_api_reads_exactly_passes_validation(http, headers):
    body = b'{"invoice": "CIV-1", "amount": 25.5, "payment_method": ' + VAULT + b"}"
    response = await send(http, PAYMENTS, headers, body)
    # past validation: the work ran and found PayTrace not configured in this container
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "not_configured"


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        # Unrepresentable anywhere: the inbound guard refuses them before any route.
        (b"NaN", "non_finite_number"),
        (b"Infinity", "non_finite_number"),
        (b"-Infinity", "non_finite_number"),
        (b"1e999", "non_finite_number"),
        # A finite number, but not an amount as written: the route's schema refuses it.
        (b"1e2", "invalid_body"),
    ],
)
@pytest.mark.parametrize(
    "path", [PAYMENTS, f"{PAYMENTS}/123456/capture", f"{PAYMENTS}/123456/refund"]
)
async def test_non_finite_or_exponent_numbers_are_refused_not_a_500(
    http, headers, container, path, amount, error
):
    fields = (
        b'"invoice": "CIV-1", "payment_method": {"type": "vault_customer", "customer_id": "c"}, '
    )
    body = b"{" + (fields if path == PAYMENTS else b"") + b'"amount": ' + amount + b"}"
    response = await send(http, path, headers, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == error
    assert "body.amount" in named(response)
    assert await nothing_claimed(container)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"total": "4E+2"}, "body.total", "exponent"),
        ({"total": " 400.00"}, "body.total", "spaces"),
        ({"total": "\uff14\uff10\uff10"}, "body.total", "ASCII digits"),
        ({"tax": "-0.00"}, "body.tax", "greater than or equal to 0"),
        ({"total": "400.001"}, "body", "total: USD amounts have at most 2 decimal places"),
    ],
)
async def test_a_loose_order_amount_is_refused_naming_the_field(
    http, headers, container, changes, field, says
):
    response = await send(http, ORDERS, headers, order(**changes))
    assert response.status_code == 422, response.text
    assert says in named(response)[field]
    assert await nothing_claimed(container)


@pytest.mark.parametrize("flag", ["yes", "false", 1])
async def test_is_organization_is_a_json_boolean_only(http, headers, flag):
    body = order()
    body["customer"] = {**body["customer"], "is_organization": flag}
    response = await send(http, ORDERS, headers, body)
    assert response.status_code == 422
    assert "body.customer.is_organization" in named(response)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
@pytest.mark.parametrize("field", ["total", "tax"])
async def test_non_finite_order_amounts_are_refused_not_a_500(http, headers, field, number):
    body = json.dumps(order(**{field: "__number__"})).encode()
    response = await send(http, ORDERS, headers, body.replace(b'"__number__"', number))
    assert response.status_code == 422, response.text
    assert f"body.{field}" in named(response)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e999"])
async def test_non_finite_numbers_in_a_business_event_are_refused_not_a_500(
    http, container, number
):
    await container.vault.set(
        container.settings.api.business_events_secret, EVENTS_KEY, actor="test"
    )
    body = b'{"BusinessEventId": "X", "EventId": "E-1", "ControlNumber": ' + number + b"}"
    response = await http.post(
        EVENTS,
        content=body,
        headers={"Content-Type": "application/json", "X-PayLedger-Key": EVENTS_KEY},
    )
    assert response.status_code == 422, response.text
    assert "body.ControlNumber" in named(response)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'{"invoice": "\\ud800", "amount": NaN, "payment_method": {"type": "\\udfff"}}',
         {"body.invoice", "body.amount", "body.payment_method.type"}),
        (b'{"invoice": "CIV-1", "\\udfff": 1}', {"body"}),
    ],
)  # fmt: skip
async def test_a_refusal_never_echoes_what_was_sent_so_it_always_renders(
    http, headers, body, fields
):
    response = await send(http, PAYMENTS, headers, body)
    assert response.status_code == 422, response.text
    assert set(named(response)) == fields
    assert "NaN" not in response.text and "udfff" not in response.text
