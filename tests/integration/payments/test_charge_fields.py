"""D365 fields on charges: an invoice charged through the payments API or by auto-pay sends
what the charge request template maps, read back from PayTrace's transaction export. The
template is the operator's edited copy (``tests/integration/charge_fields.py``): a D365
extension field reaches a PayTrace discretionary field only because the template says so."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from payledger.adapters.paytrace import PayTraceClient, PayTraceTransaction
from payledger.bootstrap import Container, build
from payledger.config import Settings
from payledger.demo.stage import DISCRETIONARY_TITLES
from payledger.doctor.startup import require_valid_templates
from payledger.domain.errors import ConfigError
from tests.integration.charge_fields import PROJECT, set_in_d365, with_project
from tests.integration.payments.conftest import (
    EVENTS_KEY,
    drain,
    encrypted_card,
    post_invoice,
    rows,
)


@pytest.fixture
def settings(settings: Settings, stage, tmp_path) -> Settings:
    return with_project(settings, stage, tmp_path / "templates")


async def exported(paytrace: PayTraceClient, container: Container, txn: str) -> PayTraceTransaction:
    today = container.clock.now().date()
    [record] = await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), transaction_id=int(txn)
    )
    return record


async def vault_card(paytrace: PayTraceClient, customer_id: str) -> str:
    assert (await paytrace.create_customer(customer_id, card=encrypted_card())).success
    return customer_id


async def test_the_sales_order_project_of_an_invoice_charged_through_the_api_reaches_paytrace(
    api, paytrace, d365, container
):
    [order] = await rows(d365, "SalesOrderHeadersV2", CustomersOrderReference="PG-ORDER-1002")
    number = order["SalesOrderNumber"]
    await set_in_d365(
        container, "SalesOrderHeadersV2", {"SalesOrderNumber": number}, ProjectCode="PRJ-0042"
    )
    posted = await post_invoice(d365, "US-002", None, sales_order_number=number)
    invoice = posted["invoice"]["InvoiceNumber"]
    customer = await vault_card(paytrace, "fields-cust-1")

    reply = await api.post(
        "/api/v1/payments",
        json={
            "invoice": invoice,
            "payment_method": {"type": "vault_customer", "customer_id": customer},
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )

    assert reply.status_code == 201, reply.text
    sale = await exported(paytrace, container, reply.json()["id"])
    assert sale.discretionary_data == {
        "D365 Order": number,
        "D365 Customer": "US-002",
        PROJECT: "PRJ-0042",
    }
    assert sale.description == f"D365 USMF invoice {invoice}, project PRJ-0042"
    assert (sale.invoice_id, sale.customer_reference_id) == (invoice, "PG-ORDER-1002")
    assert sale.customer_id == customer
    await drain(container)  # and the payment still posts against the invoice
    [line] = await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)
    assert line["PaymentId"] == reply.json()["id"]


async def test_the_customer_project_reaches_paytrace_when_auto_pay_charges_a_posted_invoice(
    app, paytrace, d365, container
):
    customer = await vault_card(paytrace, "vault-us-003")
    await set_in_d365(
        container,
        "CustomersV3",
        {"CustomerAccount": "US-003"},
        PayTraceCustomerId=customer,
        PayTraceAutoPay="Yes",
        ProjectCode="PRJ-AUTO",
    )
    posted = await post_invoice(d365, "US-003", "120.00")
    invoice = posted["invoice"]["InvoiceNumber"]

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
    ) as d365_calling:
        delivered = await d365_calling.post(
            "/webhooks/d365/business-events", params={"key": EVENTS_KEY}, json=posted["event"]
        )
    assert delivered.status_code == 200, delivered.text
    await drain(container)

    [line] = await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)
    sale = await exported(paytrace, container, line["PaymentId"])
    assert sale.discretionary_data == {"D365 Customer": "US-003", PROJECT: "PRJ-AUTO"}
    assert sale.description == f"D365 USMF invoice {invoice}, project PRJ-AUTO"
    assert (sale.invoice_id, sale.customer_id) == (invoice, customer)


async def test_a_template_naming_a_discretionary_title_paytrace_lacks_stops_start_up(
    settings: Settings, container
):
    await require_valid_templates(container)  # "Project" configured: the template may run

    paytrace = settings.paytrace.model_copy(
        update={"discretionary_titles": list(DISCRETIONARY_TITLES)}
    )
    unconfigured = build(settings.model_copy(update={"paytrace": paytrace}))
    try:
        await unconfigured.vault.set("d365-client-secret", "payledger-secret", actor="test")
        with pytest.raises(ConfigError) as refused:
            await require_valid_templates(unconfigured)
    finally:
        await unconfigured.aclose()
    assert (
        "paytrace_transaction_request.discretionary_data.Project: discretionary data title "
        "'Project' is not configured in PayTrace"
    ) in str(refused.value)
