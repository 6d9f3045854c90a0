"""D365 fields on a shop order's charge: the charge request template (the operator's edited
copy, ``tests/integration/charge_fields.py``) reads the D365 customer the shop names, and
PayTrace's transaction export shows what it mapped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from payledger.bootstrap import Container
from payledger.demo.stage import Stage
from tests.integration.charge_fields import PROJECT, set_in_d365, with_project
from tests.integration.o2c.conftest import money, o2c_settings, open_container, order_body


@pytest.fixture
async def container(database_url: str, tmp_path: Path, stage: Stage) -> AsyncIterator[Container]:
    settings = with_project(
        o2c_settings(database_url, tmp_path, stage), stage, tmp_path / "templates"
    )
    built = await open_container(settings)
    yield built
    await built.aclose()


async def test_the_project_of_the_d365_customer_a_shop_order_names_reaches_paytrace(
    api, container, shop
):
    await set_in_d365(
        container, "CustomersV3", {"CustomerAccount": "US-001"}, ProjectCode="PRJ-SHOP"
    )
    body = order_body("WEB-8101")
    body["customer"]["account"] = "US-001"

    reply = await api.post(
        "/api/v1/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )

    assert reply.status_code == 201, reply.text
    answer = reply.json()
    assert answer["status"] == "completed" and answer["d365"]["customer_account"] == "US-001"
    today = container.clock.now().date()
    [sale] = await shop.export_transactions(
        today - timedelta(days=1),
        today + timedelta(days=1),
        transaction_id=int(answer["payment"]["transaction_id"]),
    )
    assert sale.discretionary_data == {"D365 Customer": "US-001", PROJECT: "PRJ-SHOP"}
    assert sale.description == "Shop order WEB-8101, project PRJ-SHOP"
    assert (sale.invoice_id, sale.customer_reference_id) == ("WEB-8101", "WEB-8101")
    assert sale.amount == money("497.18") and money(sale.tax_amount) == money("21.28")
    assert (sale.shipping_address.city, sale.billing_address.city) == ("Norfolk", "Arlington")
