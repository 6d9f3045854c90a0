"""Amounts are charged exactly as written: a decimal string or a JSON number read as written; and
a refusal inside the work is a final answer, replayed under its key rather than left in flight."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import api_payments
from tests.integration.payments.conftest import encrypted_card, key, money, post_invoice

PAYMENTS = "/api/v1/payments"


@pytest.fixture
async def customer(paytrace) -> dict[str, str]:
    created = await paytrace.create_customer("strict-money-cust", card=encrypted_card())
    assert created.success
    return {"type": "vault_customer", "customer_id": "strict-money-cust"}


async def charged_at_paytrace(paytrace, container, invoice: str) -> list:
    today = container.clock.now().date()
    return await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), including_text=invoice
    )


@pytest.mark.parametrize(
    ("amount", "charged"),
    [("25.00", "25.00"), ("25", "25.00"), (25, "25.00"), ("25.5", "25.50")],
)
async def test_a_valid_amount_is_charged_exactly(
    api, paytrace, d365, container, customer, amount, charged
):
    invoice = (await post_invoice(d365, "US-003", "100.00"))["invoice"]["InvoiceNumber"]
    body = {"invoice": invoice, "amount": amount, "payment_method": customer}

    response = await api.post(PAYMENTS, json=body, headers=key())

    assert response.status_code == 201, response.text
    assert money(response.json()["amount"]) == money(charged)
    [sale] = await charged_at_paytrace(paytrace, container, invoice)
    assert money(sale.amount) == money(charged)


async def test_a_json_number_with_a_fraction_is_read_exactly_not_as_a_float(
    api, paytrace, d365, container, customer
):
    invoice = (await post_invoice(d365, "US-003", "100.00"))["invoice"]["InvoiceNumber"]
    body = (
        f'{{"invoice": "{invoice}", "amount": 25.10, "payment_method": '
        '{"type": "vault_customer", "customer_id": "strict-money-cust"}}'
    )
    response = await api.post(
        PAYMENTS, content=body, headers={**key(), "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    [sale] = await charged_at_paytrace(paytrace, container, invoice)
    assert money(sale.amount) == money("25.10")


async def test_a_loose_amount_charges_nothing(api, paytrace, d365, container, customer):
    invoice = (await post_invoice(d365, "US-003", "100.00"))["invoice"]["InvoiceNumber"]
    for amount in ("1E-2", " 1.00", "\uff11.\uff10\uff10", "+1.00", "1.005"):
        body = {"invoice": invoice, "amount": amount, "payment_method": customer}
        response = await api.post(PAYMENTS, json=body, headers=key())
        assert response.status_code == 422, amount
        assert response.json()["problems"][0]["field"] == "body.amount"
    assert await charged_at_paytrace(paytrace, container, invoice) == []


async def test_capture_yes_authorizes_nothing(api, paytrace, d365, container, customer):
    invoice = (await post_invoice(d365, "US-003", "100.00"))["invoice"]["InvoiceNumber"]
    body = {"invoice": invoice, "capture": "yes", "payment_method": customer}
    response = await api.post(PAYMENTS, json=body, headers=key())
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "body.capture"
    assert await charged_at_paytrace(paytrace, container, invoice) == []


@pytest.mark.parametrize(
    ("document", "status", "error"),
    [("amount_above_open", 422, "amount_refused"), ("unknown_invoice", 404, "not_found")],
)
async def test_a_refusal_inside_the_work_is_replayed_under_its_key_not_left_in_flight(
    api, d365, container, customer, document, status, error
):
    invoice = (await post_invoice(d365, "US-003", "20.00"))["invoice"]["InvoiceNumber"]
    if document == "unknown_invoice":
        invoice = "CIV-999999"
    body = {"invoice": invoice, "amount": "50.00", "payment_method": customer}
    headers = key()

    first = await api.post(PAYMENTS, json=body, headers=headers)
    again = await api.post(PAYMENTS, json=body, headers=headers)

    assert first.status_code == status and first.json()["error"] == error
    assert again.status_code == status and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    async with container.database.transaction() as conn:
        assert await conn.scalar(select(func.count()).select_from(api_payments)) == 0
