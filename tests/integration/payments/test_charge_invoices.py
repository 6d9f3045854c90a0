"""POST /api/v1/payments against both sandboxes: the gateway answers at once, the D365 line
follows through the inbox and the worker, exactly once even when the poller sees it too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from payledger.adapters.db.tables import api_payments, audit_log, idempotency_keys
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.stores.payment_events import SqlPaymentEventStore
from tests.integration.payments.conftest import (
    drain,
    encrypted_card,
    key,
    money,
    post_invoice,
    rows,
)


def vault(customer_id: str) -> dict[str, str]:
    return {"type": "vault_customer", "customer_id": customer_id}


async def a_vault_customer(paytrace, customer_id: str = "shop-cust-1") -> str:
    created = await paytrace.create_customer(customer_id, card=encrypted_card())
    assert created.success
    return customer_id


async def test_an_invoice_is_charged_its_open_amount_and_posted_once(
    api, paytrace, d365, container
):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "250.00"))["invoice"]["InvoiceNumber"]

    response = await api.post(
        "/api/v1/payments",
        json={"invoice": invoice, "payment_method": vault(customer)},
        headers=key(),
    )

    assert response.status_code == 201, response.text
    paid = response.json()
    assert (paid["status"], paid["approved"], paid["kind"]) == ("approved", True, "sale")
    assert money(paid["amount"]) == money("250.00") and paid["currency"] == "USD"
    assert (paid["invoice"], paid["customer_account"]) == (invoice, "US-003")
    assert paid["message"] == "Approved." and paid["approval_code"]
    [sale] = await paytrace.export_transactions(
        container.clock.now().date() - timedelta(days=1),
        container.clock.now().date() + timedelta(days=1),
        transaction_id=int(paid["id"]),
    )
    assert (sale.invoice_id, sale.amount) == (invoice, money("250.00"))
    assert sale.discretionary_data == {"D365 Customer": "US-003"}

    await drain(container)
    [line] = await rows(
        d365, "CustomerPaymentJournalLines", PaymentReference=f"PT-{paid['id']}-PAY"
    )
    assert money(line["CreditAmount"]) == money("250.00") and money(line["DebitAmount"]) == 0
    assert line["MarkedInvoice"] == invoice
    assert line["AccountDisplayValue"] == "US\\-003"
    assert line["PaymentId"] == paid["id"]

    # the poller later sees the same sale: one inbox event, still one line
    source = PayTraceGateway(await container.paytrace_client())
    store = SqlPaymentEventStore(container.inbox)
    polled = await poll_payments(PollPayments(), source=source, store=store, clock=container.clock)
    assert polled.seen >= 1 and polled.new == 0
    await drain(container)
    assert len(await rows(d365, "CustomerPaymentJournalLines", PaymentId=paid["id"])) == 1

    async with container.database.transaction() as conn:
        [audit] = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "payment.charged"))
        ).all()
    assert (audit.actor, audit.subject) == ("api:shop", f"payment:{paid['id']}")


async def test_a_declined_card_is_402_with_the_reason_and_posts_no_line(
    api, paytrace, d365, container
):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "80.00"))["invoice"]["InvoiceNumber"]

    declined = await api.post(
        "/api/v1/payments",
        json={"invoice": invoice, "amount": "1.12", "payment_method": vault(customer)},
        headers=key(),
    )

    assert declined.status_code == 402, declined.text
    body = declined.json()
    assert (body["status"], body["approved"]) == ("declined", False)
    assert "Do not honor" in body["message"] and body["id"]
    await drain(container)
    assert await rows(d365, "CustomerPaymentJournalLines", PaymentId=body["id"]) == []
    # nothing was taken: the whole invoice is still open
    retry = await api.post(
        "/api/v1/payments", json={"invoice": invoice, "payment_method": vault(customer)},
        headers=key(),
    )  # fmt: skip
    assert retry.status_code == 201 and money(retry.json()["amount"]) == money("80.00")


async def test_a_part_payment_leaves_the_rest_open_and_a_paid_invoice_refuses_more(
    api, paytrace, d365
):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "100.00"))["invoice"]["InvoiceNumber"]
    body = {"invoice": invoice, "payment_method": vault(customer)}

    part = await api.post("/api/v1/payments", json={**body, "amount": "30.00"}, headers=key())
    too_much = await api.post("/api/v1/payments", json={**body, "amount": "70.01"}, headers=key())
    rest = await api.post("/api/v1/payments", json=body, headers=key())
    more = await api.post("/api/v1/payments", json=body, headers=key())

    assert part.status_code == 201 and money(part.json()["amount"]) == money("30.00")
    assert too_much.status_code == 422
    assert too_much.json()["error"] == "amount_refused"
    assert "70.00" in too_much.json()["detail"]
    assert rest.status_code == 201 and money(rest.json()["amount"]) == money("70.00")
    assert more.status_code == 409 and more.json()["error"] == "not_allowed"
    assert "nothing open" in more.json()["detail"]


async def test_an_unknown_invoice_or_order_is_404_and_charges_nothing(api, paytrace, container):
    customer = await a_vault_customer(paytrace)
    for target in ({"invoice": "CIV-999999"}, {"sales_order": "SO-NOPE"}):
        response = await api.post(
            "/api/v1/payments", json={**target, "payment_method": vault(customer)}, headers=key()
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
    async with container.database.transaction() as conn:
        assert await conn.scalar(select(func.count()).select_from(api_payments)) == 0


async def test_an_unknown_vault_customer_is_refused_with_paytraces_reason(api, d365):
    invoice = (await post_invoice(d365, "US-003", "20.00"))["invoice"]["InvoiceNumber"]
    response = await api.post(
        "/api/v1/payments",
        json={"invoice": invoice, "payment_method": vault("nobody-here")},
        headers=key(),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "gateway_refused"
    assert "customer profile was not found" in response.json()["detail"]


async def test_a_card_number_in_the_body_is_refused_before_anything_is_stored(api, d365, container):
    invoice = (await post_invoice(d365, "US-003", "20.00"))["invoice"]["InvoiceNumber"]
    response = await api.post(
        "/api/v1/payments",
        json={
            "invoice": invoice,
            "payment_method": {
                "type": "encrypted_card",
                "encrypted_number": "4012000098765439",
                "expiration_month": 12,
                "expiration_year": 2030,
            },
        },
        headers=key(),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "card_data_rejected"
    assert "4012000098765439" not in response.text
    async with container.database.transaction() as conn:
        for table in (api_payments, idempotency_keys):
            assert await conn.scalar(select(func.count()).select_from(table)) == 0


async def test_a_retry_with_the_same_key_replays_the_charge_instead_of_repeating_it(
    api, paytrace, d365, container
):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "60.00"))["invoice"]["InvoiceNumber"]
    body = {"invoice": invoice, "payment_method": vault(customer)}
    headers = key()

    first = await api.post("/api/v1/payments", json=body, headers=headers)
    again = await api.post("/api/v1/payments", json=body, headers=headers)
    other_body = await api.post(
        "/api/v1/payments", json={**body, "amount": "5.00"}, headers=headers
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 422
    assert other_body.json()["error"] == "idempotency_key_reused"
    today = container.clock.now().date()
    sales = await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), including_text=invoice
    )
    assert len(sales) == 1


async def test_a_missing_key_is_400(api, d365, paytrace):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "60.00"))["invoice"]["InvoiceNumber"]
    response = await api.post(
        "/api/v1/payments", json={"invoice": invoice, "payment_method": vault(customer)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "idempotency_key_missing"


async def test_payments_need_a_token_with_payments_write(app, tokens):
    import httpx

    body = {"invoice": "CIV-000001", "payment_method": vault("x")}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
    ) as http:
        anonymous = await http.post("/api/v1/payments", json=body, headers=key())
        reader = await tokens("read", "orders:write", client="reporting")
        forbidden = await http.post(
            "/api/v1/payments", json=body, headers={**key(), "Authorization": f"Bearer {reader}"}
        )
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthenticated"
    assert forbidden.status_code == 403
    assert forbidden.json()["required_scope"] == "payments:write"


async def test_bodies_that_make_no_sense_are_422(api):
    for body in (
        {"invoice": "CIV-1", "sales_order": "SO-1", "payment_method": vault("x")},
        {"payment_method": vault("x")},
        {"invoice": "CIV-1", "amount": "-5.00", "payment_method": vault("x")},
        {"invoice": "CIV-1", "amount": "1.234", "payment_method": vault("x")},
        {"invoice": "CIV-1", "payment_method": {"type": "cash"}},
        {"invoice": "CIV 1; DROP", "payment_method": vault("x")},
    ):
        response = await api.post("/api/v1/payments", json=body, headers=key())
        assert response.status_code == 422, body


async def test_two_charges_of_one_invoice_at_once_take_its_amount_once(
    api, paytrace, d365, container
):
    import asyncio

    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "90.00"))["invoice"]["InvoiceNumber"]
    body = {"invoice": invoice, "payment_method": vault(customer)}

    first, second = await asyncio.gather(
        api.post("/api/v1/payments", json=body, headers=key()),
        api.post("/api/v1/payments", json=body, headers=key()),
    )

    assert sorted([first.status_code, second.status_code]) == [201, 409]
    today = container.clock.now().date()
    sales = await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), including_text=invoice
    )
    assert len(sales) == 1
