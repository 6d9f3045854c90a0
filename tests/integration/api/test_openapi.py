"""The OpenAPI document describes the payments API and the business-event receiver as they
behave: security, the Idempotency-Key header, every status they answer with."""

from __future__ import annotations

import pytest


@pytest.fixture
async def document(http) -> dict:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def statuses(operation: dict) -> set[str]:
    return set(operation["responses"])


async def test_charging_is_documented_with_its_key_security_and_answers(document):
    create = document["paths"]["/api/v1/payments"]["post"]
    assert create["security"] == [{"ApiToken": []}]
    [header] = [p for p in create["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert {"201", "402", "400", "401", "403", "404", "409", "422", "502", "503"} <= statuses(
        create
    )
    schemas = document["components"]["schemas"]
    body = schemas["PaymentCreate"]
    method = body["properties"]["payment_method"]
    assert set(method["discriminator"]["mapping"]) == {
        "vault_customer",
        "protect",
        "encrypted_card",
    }
    assert "card_number" not in str(schemas) and "cvv" not in str(schemas).lower()
    declined = create["responses"]["402"]["content"]["application/json"]["schema"]
    assert declined["$ref"].endswith("/ApiPaymentPublic")


@pytest.mark.parametrize(
    ("action", "created"), [("capture", "200"), ("void", "200"), ("refund", "201")]
)
async def test_follow_ups_are_documented(document, action, created):
    operation = document["paths"][f"/api/v1/payments/{{payment_id}}/{action}"]["post"]
    assert created in statuses(operation) and {"404", "409", "422"} <= statuses(operation)
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])


async def test_the_business_event_receiver_documents_its_two_ways_of_carrying_the_key(document):
    operation = document["paths"]["/webhooks/d365/business-events"]["post"]
    schemes = {name for requirement in operation["security"] for name in requirement}
    assert schemes == {"BusinessEventKeyQuery", "BusinessEventKeyHeader"}
    components = document["components"]["securitySchemes"]
    assert components["BusinessEventKeyQuery"] == {
        "type": "apiKey",
        "description": components["BusinessEventKeyQuery"]["description"],
        "in": "query",
        "name": "key",
    }
    assert {"200", "400", "401", "422"} <= statuses(operation)
