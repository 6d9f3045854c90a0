"""CONFIRMED examples of the PayTrace fact sheet (§1-§4.13), replayed on the wire.

Ids, approval codes and tokens differ from the recordings; everything else must match.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from payledger.sandbox.paytrace import PayTraceSandboxSettings, create_app

TXN_RESULT_KEYS = {
    "success",
    "response_code",
    "status_message",
    "transaction_id",
    "approval_code",
    "approval_message",
    "avs_response",
    "csc_response",
    "external_transaction_id",
    "masked_card_number",
}
TEST_CARDS = [
    "4012000098765439",
    "5499740000000057",
    "6011000993026909",
    "371449635392376",
    "4111111111111111",
    "5454545454545454",
    "4012881888818888",
]


# ---- §1.2 authentication -------------------------------------------------------------------


async def test_password_grant_with_form_body(raw):
    form = {"grant_type": "password", "username": "demo123", "password": "demo123"}
    reply = await raw.post("/oauth/token", data=form)
    token = reply.json()

    assert reply.status_code == 200
    assert set(token) == {"access_token", "token_type", "expires_in", "created_at"}
    assert (token["token_type"], token["expires_in"]) == ("Bearer", 7200)
    assert isinstance(token["created_at"], int)
    assert re.fullmatch(r"[0-9a-f]+:[0-9a-f]+:[0-9a-f]+", token["access_token"])
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["content-type"] == "application/json; charset=utf-8"


async def test_password_grant_with_json_body(raw):
    body = {"grant_type": "password", "username": "demo123", "password": "demo123"}
    assert (await raw.post("/oauth/token", json=body)).status_code == 200


async def test_bad_credentials_answer_invalid_grant(raw):
    form = {"grant_type": "password", "username": "demo123", "password": "nope"}
    reply = await raw.post("/oauth/token", data=form)
    assert reply.status_code == 401
    assert reply.json() == {
        "error": "invalid_grant",
        "error_description": "The provided authorization grant is invalid, expired, revoked, does "
        "not match the redirection URI used in the authorization request, or was issued to "
        "another client.",
    }


async def test_invalid_grant_status_is_configurable():
    app = create_app(PayTraceSandboxSettings(invalid_grant_status=400))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as raw:
        reply = await raw.post("/oauth/token", data={"grant_type": "password"})
    assert reply.status_code == 400


async def test_every_call_but_ping_needs_the_bearer_token(raw, wire):
    assert (await raw.post("/v1/transactions/sale/keyed", json=wire.KEYED)).json()["error"] == (
        "invalid_token"
    )
    assert (await raw.get("/v1/ping")).status_code == 200


async def test_expired_token_answers_invalid_token(raw, wire, sandbox):
    sandbox.clock.advance(7200)
    reply = await wire.post("/v1/transactions/sale/keyed", wire.KEYED)
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_token"


async def test_integrator_id_is_required_and_unknown_keys_are_ignored(raw, bearer, wire):
    body = {k: v for k, v in wire.KEYED.items() if k != "integrator_id"}
    missing = await raw.post("/v1/transactions/sale/keyed", json=body, headers=bearer)
    extra = await raw.post(
        "/v1/transactions/sale/keyed",
        headers=bearer,
        json={**wire.KEYED, "username": "demo123", "password": "demo123"},
    )
    assert missing.status_code == 400 and "9106" in missing.json()["errors"]
    assert extra.status_code == 200


# ---- §2 conventions ------------------------------------------------------------------------


async def test_rails_style_headers(wire):
    reply = await wire.post("/v1/transactions/sale/keyed", wire.KEYED)
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert uuid.UUID(reply.headers["x-request-id"]).version == 4
    assert float(reply.headers["x-runtime"]) >= 0
    assert reply.headers["etag"].startswith('W/"')
    assert reply.headers["cache-control"] == "max-age=0, private, must-revalidate"


async def test_amounts_as_numbers_and_ids_as_strings_are_accepted(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED, amount=51.88)
    auth = await wire.ok(
        "/v1/transactions/authorization/keyed",
        wire.KEYED,
        credit_card={**wire.KEYED["credit_card"], "expiration_month": 12, "expiration_year": 2026},
    )
    captured = await wire.ok(
        "/v1/transactions/authorization/capture", transaction_id=str(auth["transaction_id"])
    )
    assert sale["response_code"] == 101 and captured["response_code"] == 112


# ---- §4 card transactions ------------------------------------------------------------------


async def test_keyed_sale_minimum_request_gives_the_txn_result(wire):
    body = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    assert set(body) == TXN_RESULT_KEYS
    assert body["success"] is True and body["response_code"] == 101
    assert body["status_message"] == "Your transaction was successfully approved."
    assert isinstance(body["transaction_id"], int)
    assert re.fullmatch(r"TAS\d{3}", body["approval_code"])
    assert body["approval_message"] == "  NO  MATCH - Approved and completed"
    assert (body["avs_response"], body["csc_response"]) == ("No Match", "")
    assert (body["external_transaction_id"], body["masked_card_number"]) == ("", "xxxxxxxxxxxx5439")


@pytest.mark.parametrize("number", TEST_CARDS)
async def test_documented_test_cards_approve(wire, number):
    body = await wire.ok(
        "/v1/transactions/sale/keyed",
        wire.KEYED,
        credit_card={**wire.KEYED["credit_card"], "number": number},
        amount="10.00",
    )
    assert body["masked_card_number"].endswith(number[-4:])


async def test_vault_and_by_transaction_sales_omit_the_masked_card(wire):
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="cust-0042")
    by_customer = await wire.ok(
        "/v1/transactions/sale/by_customer",
        customer_id="cust-0042",
        amount=25.0,
        invoice_id="INV-1002",
        csc="999",
    )
    by_transaction = await wire.ok(
        "/v1/transactions/sale/by_transaction",
        transaction_id=by_customer["transaction_id"],
        amount="2.00",
    )
    assert set(by_customer) == set(by_transaction) == TXN_RESULT_KEYS - {"masked_card_number"}


async def test_decline_1_12_replays_the_recorded_body(wire):
    body = await wire.refused("/v1/transactions/sale/keyed", wire.KEYED, amount="1.12")
    assert isinstance(body.pop("transaction_id"), int)
    assert body == {
        "success": False,
        "response_code": 102,
        "status_message": "Your transaction was not approved.",
        "approval_code": "",
        "approval_message": "    DECLINE - Do not honor",
        "avs_response": "No Match",
        "csc_response": "",
        "external_transaction_id": "",
        "masked_card_number": "xxxxxxxxxxxx5439",
    }


async def test_authorization_0_29_declines_as_expired_card(wire):
    body = await wire.refused(
        "/v1/transactions/authorization/keyed",
        wire.KEYED,
        amount="0.29",
        credit_card={**wire.KEYED["credit_card"], "number": "5499740000000057"},
    )
    assert body["approval_message"] == "  EXPIRED CARD - Expired card"


async def test_invalid_pan_and_month_14_give_35_and_43(wire):
    card = {"number": "4012000098765430", "expiration_month": "14", "expiration_year": "2026"}
    body = await wire.refused("/v1/transactions/sale/keyed", wire.KEYED, credit_card=card)
    assert body == {
        **wire.FAILED,
        "errors": {
            "35": ["Please provide a valid Credit Card Number."],
            "43": ["Please provide a valid Expiration Month."],
        },
        "external_transaction_id": "",
    }


async def test_capture_in_place_partial_allowed(wire):
    auth = await wire.ok("/v1/transactions/authorization/keyed", wire.KEYED, amount="5.00")
    body = await wire.ok(
        "/v1/transactions/authorization/capture",
        transaction_id=auth["transaction_id"],
        amount="2.00",
    )
    assert body == {
        "success": True,
        "response_code": 112,
        "status_message": "Your transaction was successfully captured.",
        "transaction_id": auth["transaction_id"],
        "external_transaction_id": "",
    }


async def test_capture_errors_58_and_816(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    blank = await wire.refused("/v1/transactions/authorization/capture", transaction_id="")
    again = await wire.refused(
        "/v1/transactions/authorization/capture", transaction_id=sale["transaction_id"]
    )
    assert blank == {
        **wire.FAILED,
        "errors": {"58": ["Please provide a valid Transaction ID."]},
        "external_transaction_id": "",
    }
    assert again == {
        **wire.FAILED,
        "errors": {
            "816": [
                "The Transaction ID that you provided could not be captured. "
                "Only uncaptured, approved authorizations can be captured."
            ]
        },
        "external_transaction_id": "",
    }


async def test_void_success_blank_and_settled(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    settled = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    voided = await wire.ok("/v1/transactions/void", transaction_id=sale["transaction_id"])
    blank = await wire.refused("/v1/transactions/void", transaction_id="")
    await wire.ok("/v1/transactions/settle")
    late = await wire.refused("/v1/transactions/void", transaction_id=settled["transaction_id"])

    assert voided == {
        "success": True,
        "response_code": 109,
        "status_message": "Your transaction was successfully voided.",
        "transaction_id": sale["transaction_id"],
    }
    assert blank == {**wire.FAILED, "errors": {"58": ["Please provide a valid Transaction ID."]}}
    assert late == {
        **wire.FAILED,
        "errors": {
            "818": [
                "The Transaction ID that you provided could not be voided. "
                "Only transactions that are pending settlement can be voided."
            ]
        },
    }


async def test_unknown_transaction_id_gives_811(wire):
    body = await wire.refused("/v1/transactions/void", transaction_id=1)
    assert body["errors"] == {"811": ["The Transaction ID that you provided was not found."]}


async def test_refund_before_settlement_gives_817_then_refunds_with_a_new_id(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    early = await wire.refused(
        "/v1/transactions/refund/for_transaction", transaction_id=sale["transaction_id"]
    )
    await wire.ok("/v1/transactions/settle")
    refund = await wire.ok(
        "/v1/transactions/refund/for_transaction", transaction_id=sale["transaction_id"]
    )

    assert early == {
        **wire.FAILED,
        "errors": {
            "817": [
                "The Transaction ID that you provided could not be refunded. "
                "Only settled transactions can be refunded.  "
                "Please try to void the transaction instead."
            ]
        },
        "external_transaction_id": "",
    }
    new_id = refund.pop("transaction_id")
    assert new_id != sale["transaction_id"]
    assert refund == {
        "success": True,
        "response_code": 106,
        "status_message": "Your transaction was successfully refunded.",
        "external_transaction_id": "",
        "masked_card_number": "xxxxxxxxxxxx5439",
    }


async def test_refund_without_permission_gives_981(wire):
    app = create_app(PayTraceSandboxSettings(denied_operations=frozenset({"refund"})))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as raw:
        login = {"grant_type": "password", "username": "demo123", "password": "demo123"}
        token = (await raw.post("/oauth/token", data=login)).json()["access_token"]
        reply = await raw.post(
            "/v1/transactions/refund/for_transaction",
            json={**wire.INTEGRATOR, "transaction_id": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert reply.json() == {
        **wire.FAILED,
        "errors": {"981": ["Log in failed for insufficient permissions."]},
        "external_transaction_id": "",
    }


async def test_email_receipt(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    body = await wire.ok(
        "/v1/transactions/email_receipt",
        transaction_id=str(sale["transaction_id"]),
        email="email@domain.com",
    )
    assert body == {
        "success": True,
        "response_code": 149,
        "status_message": f"The receipt for transaction ID {sale['transaction_id']} was "
        "successfully emailed to email@domain.com.",
    }


async def test_level_three_visa(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    body = await wire.ok(
        "/v1/level_three/visa",
        transaction_id=sale["transaction_id"],
        line_items=[{"description": "Widget", "amount": "1.00"}],
    )
    assert body["response_code"] == 170
    assert body["status_message"] == (
        f"Visa/MasterCard enhanced data was successfully added to Transaction ID "
        f"{sale['transaction_id']}. 1 line item records were created."
    )


async def test_csc_999_matches(wire):
    body = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED, csc="999")
    assert body["csc_response"] == "Match"
