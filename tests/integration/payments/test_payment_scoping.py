"""A payment made through the API belongs to the client that made it: another client neither
reads it nor captures, voids or refunds it (404, as if it did not exist); an admin reads all."""

from __future__ import annotations

import pytest

from tests.integration.payments.conftest import encrypted_card, key, post_invoice

PAYMENTS = "/api/v1/payments"


@pytest.fixture
async def sale(api, paytrace, d365) -> dict[str, str]:
    """A sale the ``shop`` client made."""
    await paytrace.create_customer("scoped-cust", card=encrypted_card())
    invoice = (await post_invoice(d365, "US-003", "80.00"))["invoice"]["InvoiceNumber"]
    method = {"type": "vault_customer", "customer_id": "scoped-cust"}
    made = await api.post(
        PAYMENTS, json={"invoice": invoice, "payment_method": method}, headers=key()
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_payment_is_read_by_its_own_client_and_an_admin_only(api, as_client, sale):
    reporting = await as_client("read", client="reporting")
    billing = await as_client("payments:write", client="billing")
    support = await as_client("admin", client="support")
    path = f"{PAYMENTS}/{sale['id']}"

    assert (await api.get(path)).json() == sale
    for other in (reporting, billing):
        hidden, unknown = await other.get(path), await other.get(f"{PAYMENTS}/999999999")
        assert hidden.status_code == 404
        assert hidden.json()["error"] == unknown.json()["error"] == "not_found"
    assert (await support.get(path)).json() == sale


@pytest.mark.parametrize("action", ["void", "capture", "refund"])
async def test_another_client_cannot_act_on_a_payment(api, as_client, stage, sale, action):
    billing = await as_client("payments:write", "read", client="billing")
    transactions = len(stage.paytrace.state.transactions)

    reply = await billing.post(f"{PAYMENTS}/{sale['id']}/{action}", json={}, headers=key())

    assert reply.status_code == 404, reply.text
    assert len(stage.paytrace.state.transactions) == transactions
    assert (await api.get(f"{PAYMENTS}/{sale['id']}")).json() == sale


async def test_an_admin_with_payments_write_may_void_any_clients_payment(as_client, sale):
    operator = await as_client("payments:write", "admin", client="operator")

    reply = await operator.post(f"{PAYMENTS}/{sale['id']}/void", json={}, headers=key())

    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "voided"
