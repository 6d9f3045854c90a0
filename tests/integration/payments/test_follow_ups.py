"""Capture, void and refund of payments made through the API, down to the D365 lines."""

from __future__ import annotations

from payledger.sandbox.paytrace import protect_nonce
from tests.integration.payments.conftest import (
    VISA,
    drain,
    encrypted_card,
    key,
    money,
    post_invoice,
    rows,
)


def protect() -> dict[str, str]:
    nonce = protect_nonce(VISA, 12, 2030, "999")
    return {"type": "protect", "hpf_token": nonce.hpf_token, "enc_key": nonce.enc_key}


async def a_sale(api, paytrace, d365, amount: str) -> dict:
    await paytrace.create_customer("follow-up-cust", card=encrypted_card())
    invoice = (await post_invoice(d365, "US-003", amount))["invoice"]["InvoiceNumber"]
    response = await api.post(
        "/api/v1/payments",
        json={
            "invoice": invoice,
            "payment_method": {"type": "vault_customer", "customer_id": "follow-up-cust"},
        },
        headers=key(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_order_is_authorized_with_protect_then_partly_captured(api, d365, container):
    [order] = await rows(d365, "SalesOrderHeadersV2", CustomersOrderReference="PG-ORDER-1002")
    total = money(order["OrderTotalAmount"])

    authorized = await api.post(
        "/api/v1/payments",
        json={
            "sales_order": order["SalesOrderNumber"],
            "capture": False,
            "payment_method": protect(),
        },
        headers=key(),
    )
    assert authorized.status_code == 201, authorized.text
    auth = authorized.json()
    assert (auth["kind"], auth["status"], money(auth["amount"])) == (
        "authorization",
        "authorized",
        total,
    )
    assert auth["masked_card"].endswith("5439") and auth["sales_order"] == order["SalesOrderNumber"]

    part = total - money("10.00")
    captured = await api.post(
        f"/api/v1/payments/{auth['id']}/capture", json={"amount": str(part)}, headers=key()
    )
    assert captured.status_code == 200, captured.text
    assert captured.json()["status"] == "captured"
    assert money(captured.json()["captured_amount"]) == part

    again = await api.post(f"/api/v1/payments/{auth['id']}/capture", json={}, headers=key())
    assert again.status_code == 409 and again.json()["error"] == "not_allowed"

    await drain(container)
    [line] = await rows(
        d365, "CustomerPaymentJournalLines", PaymentReference=f"PT-{auth['id']}-PAY"
    )
    assert money(line["CreditAmount"]) == part
    assert line["AccountDisplayValue"].replace("\\", "") == order["InvoiceCustomerAccountNumber"]
    [updated] = await rows(d365, "SalesOrderHeadersV2", SalesOrderNumber=order["SalesOrderNumber"])
    assert updated["PaymentStatus"].casefold() == "paid"

    read = await api.get(f"/api/v1/payments/{auth['id']}")
    assert read.status_code == 200 and read.json() == captured.json()


async def test_a_sale_voided_before_settlement_never_reaches_the_ledger(
    api, paytrace, d365, container
):
    sale = await a_sale(api, paytrace, d365, "45.00")

    voided = await api.post(f"/api/v1/payments/{sale['id']}/void", headers=key())

    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    record = await paytrace.export_transaction(int(sale["id"]))
    assert record.status_code.upper() == "VOIDED"
    await drain(container)
    assert await rows(d365, "CustomerPaymentJournalLines", PaymentId=sale["id"]) == []
    refund = await api.post(f"/api/v1/payments/{sale['id']}/refund", json={}, headers=key())
    assert refund.status_code == 409


async def test_a_settled_sale_is_refunded_partly_then_fully(api, paytrace, d365, container):
    sale = await a_sale(api, paytrace, d365, "100.00")
    await drain(container)
    await paytrace.settle()

    first = await api.post(
        f"/api/v1/payments/{sale['id']}/refund", json={"amount": "40.00"}, headers=key()
    )
    assert first.status_code == 201, first.text
    refund, payment = first.json()["refund"], first.json()["payment"]
    assert (refund["kind"], refund["status"], refund["original_id"]) == (
        "refund",
        "approved",
        sale["id"],
    )
    assert money(refund["amount"]) == money("40.00")
    assert (payment["status"], money(payment["refunded_amount"])) == ("approved", money("40.00"))

    too_much = await api.post(
        f"/api/v1/payments/{sale['id']}/refund", json={"amount": "60.01"}, headers=key()
    )
    assert too_much.status_code == 422 and "60.00" in too_much.json()["detail"]
    rest = await api.post(f"/api/v1/payments/{sale['id']}/refund", json={}, headers=key())
    assert rest.status_code == 201
    assert rest.json()["payment"]["status"] == "refunded"
    assert money(rest.json()["refund"]["amount"]) == money("60.00")

    await drain(container)
    lines = await rows(d365, "CustomerPaymentJournalLines")
    by_reference = {line["PaymentReference"]: line for line in lines}
    assert money(by_reference[f"PT-{sale['id']}-PAY"]["CreditAmount"]) == money("100.00")
    assert money(by_reference[f"PT-{refund['id']}-REF"]["DebitAmount"]) == money("40.00")
    assert money(by_reference[f"PT-{rest.json()['refund']['id']}-REF"]["DebitAmount"]) == money(
        "60.00"
    )
    assert by_reference[f"PT-{refund['id']}-REF"]["MarkedInvoice"] == ""


async def test_a_refund_before_settlement_is_refused_with_paytraces_advice(api, paytrace, d365):
    sale = await a_sale(api, paytrace, d365, "30.00")
    response = await api.post(f"/api/v1/payments/{sale['id']}/refund", json={}, headers=key())
    assert response.status_code == 422
    assert response.json()["error"] == "gateway_refused"
    assert "void it instead" in response.json()["detail"]
    read = await api.get(f"/api/v1/payments/{sale['id']}")
    assert money(read.json()["refunded_amount"]) == 0


async def test_follow_ups_of_unknown_payments_are_404_and_a_sale_cannot_be_captured(
    api, paytrace, d365
):
    for action in ("capture", "void", "refund"):
        response = await api.post(f"/api/v1/payments/777777/{action}", json={}, headers=key())
        assert response.status_code == 404, action
    sale = await a_sale(api, paytrace, d365, "12.00")
    capture = await api.post(f"/api/v1/payments/{sale['id']}/capture", json={}, headers=key())
    assert capture.status_code == 409
    assert "only an authorization" in capture.json()["detail"]
    assert (await api.get("/api/v1/payments/777777")).status_code == 404
