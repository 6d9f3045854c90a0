"""POST /api/v1/payments with ``"dunning": true``: a declined charge of an invoice to a card on
file opens a dunning case; a body that dunning cannot follow is refused before any charge."""

from __future__ import annotations

import pytest

from payledger.config import DunningSettings, Settings
from payledger.domain.dunning import CaseSource, CaseStatus, DeclineClass
from payledger.stores.dunning import SqlDunning
from tests.integration.payments.conftest import post_invoice
from tests.integration.payments.test_charge_invoices import a_vault_customer, key, vault


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dunning": DunningSettings(enabled=True)})


async def test_a_declined_charge_marked_dunning_opens_a_case(api, paytrace, d365, container):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "1.12"))["invoice"]["InvoiceNumber"]  # declined
    body = {"invoice": invoice, "payment_method": vault(customer), "dunning": True}

    response = await api.post("/api/v1/payments", json=body, headers=key())

    assert response.status_code == 402, response.text
    declined = response.json()
    case = await SqlDunning(container.database, container.clock).active_for_invoice(invoice)
    assert case is not None
    assert (case.source, case.source_key, case.status) == (
        CaseSource.API,
        f"api:{declined['id']}",
        CaseStatus.RETRY_SCHEDULED,
    )
    assert case.vault_customer_id == customer and case.attempts[0].decline_class is (
        DeclineClass.SOFT  # "Do not honor"
    )


async def test_a_declined_charge_without_the_flag_opens_none(api, paytrace, d365, container):
    customer = await a_vault_customer(paytrace)
    invoice = (await post_invoice(d365, "US-003", "1.12"))["invoice"]["InvoiceNumber"]
    body = {"invoice": invoice, "payment_method": vault(customer)}

    response = await api.post("/api/v1/payments", json=body, headers=key())

    assert response.status_code == 402
    assert await SqlDunning(container.database, container.clock).active_for_invoice(invoice) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"invoice": None, "sales_order": "SO-1"}, "invoices only"),
        ({"payment_method": {"type": "protect", "hpf_token": "t", "enc_key": "k"}}, "card on file"),
        ({"amount": "5.00"}, "open amount"),
        ({"capture": False}, "sales"),
    ],
)
async def test_a_charge_dunning_cannot_follow_is_refused_before_charging(api, stage, change, words):
    body = {"invoice": "CIV-1", "payment_method": vault("cust-x"), "dunning": True, **change}
    body = {k: v for k, v in body.items() if v is not None}

    response = await api.post("/api/v1/payments", json=body, headers=key())

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["error"] == "dunning_not_possible" and words in problem["detail"]
    assert stage.paytrace.state.transactions == {}  # nothing reached the gateway
