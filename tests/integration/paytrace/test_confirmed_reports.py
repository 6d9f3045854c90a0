"""CONFIRMED examples of the PayTrace fact sheet (§4.14-§4.17), replayed on the wire."""

from __future__ import annotations

# ---- §4.14 checks --------------------------------------------------------------------------

CHECK = {
    "amount": "1.00",
    "check": {"account_number": "123456", "routing_number": "325070760"},
    "billing_address": {"name": "Steve Smith", "zip": "85284"},
}


async def test_check_sale_refund_hold_fund_and_void(wire):
    sale = await wire.ok("/v1/checks/sale/by_account", CHECK)
    refund = await wire.ok(
        "/v1/checks/refund/by_transaction",
        check_transaction_id=sale["check_transaction_id"],
        amount="1.00",
    )
    hold = await wire.ok("/v1/checks/hold/by_account", CHECK)
    fund = await wire.ok(
        "/v1/checks/manage/fund",
        check_transaction_id=hold["check_transaction_id"],
        amount="1.00",
    )
    void = await wire.ok(
        "/v1/checks/manage/void", check_transaction_id=hold["check_transaction_id"]
    )

    assert set(sale) == {"success", "response_code", "status_message", "check_transaction_id"}
    assert (sale["response_code"], sale["status_message"]) == (
        120,
        "Your check was successfully processed.",
    )
    assert (refund["response_code"], refund["status_message"]) == (
        122,
        "Your check was successfully refunded.",
    )
    assert fund["response_code"] == void["response_code"] == 124
    assert void["status_message"] == "Your check was successfully managed."


async def test_check_hold_with_bad_data_gives_30_45_46(wire):
    body = await wire.refused(
        "/v1/checks/hold/by_customer",
        customer_id="customerid123",
        amount="1.00",
        check={"account_number": "", "routing_number": "12"},
    )
    assert body == {
        **wire.FAILED,
        "errors": {
            "30": ["Customer ID, customerid123, was not found or is incomplete."],
            "45": ["Please provide a valid Checking Account Number."],
            "46": ["Please provide a valid Transit Routing Number."],
        },
    }


async def test_check_refund_of_unknown_id_gives_80(wire):
    body = await wire.refused("/v1/checks/refund/by_transaction", check_transaction_id=5)
    assert body["errors"] == {
        "80": ["The Check ID that you provided was not found in the PayTrace record."]
    }


async def test_check_not_processed_gives_125(wire):
    body = await wire.refused("/v1/checks/sale/by_account", CHECK, amount="1.12")
    assert isinstance(body.pop("check_transaction_id"), int)
    assert body == {
        "success": False,
        "response_code": 125,
        "ach_code": 0,
        "ach_message": "",
        "status_message": "Your check was NOT successfully processed.",
    }


# ---- §4.15 vault ---------------------------------------------------------------------------


async def test_customer_create_update_delete_messages(wire):
    billing = {**wire.KEYED["billing_address"], "name": "Nathan Williams"}
    created = await wire.ok(
        "/v1/customer/create", wire.KEYED, customer_id="1733439821", billing_address=billing
    )
    updated = await wire.ok(
        "/v1/customer/update",
        customer_id="1733439821",
        new_id="customer789",
        billing_address={"name": "Steve Smith"},
    )
    deleted = await wire.ok("/v1/customer/delete", customer_id="customer789")

    assert created == {
        "success": True,
        "response_code": 160,
        "status_message": "The customer profile for 1733439821/Nathan Williams was successfully "
        "created.",
        "customer_id": "1733439821",
        "masked_card_number": "xxxxxxxxxxxx5439",
    }
    assert updated["response_code"] == 161 and updated["customer_id"] == "customer789"
    assert updated["status_message"].endswith("customer789/Steve Smith was successfully updated.")
    assert deleted == {
        "success": True,
        "response_code": 162,
        "status_message": "The customer profile for customer789/Steve Smith was successfully "
        "deleted.",
        "customer_id": "customer789",
    }


async def test_duplicate_customer_id_gives_171_with_the_masked_card(wire):
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="dup")
    body = await wire.refused("/v1/customer/create", wire.KEYED, customer_id="dup")
    assert body == {
        **wire.FAILED,
        "errors": {"171": ["Please provide a unique customer ID."]},
        "masked_card_number": "xxxxxxxxxxxx5439",
    }


async def test_customer_from_transaction(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    body = await wire.ok(
        "/v1/customer/create_from_transaction",
        customer_id="from-txn",
        transaction_id=sale["transaction_id"],
    )
    assert body["response_code"] == 160 and "from-txn/Steve Smith" in body["status_message"]


# ---- §4.16 / §4.17 recurring and exports ---------------------------------------------------


async def test_recurrence_create_returns_its_id(wire):
    await wire.ok("/v1/customer/create", wire.KEYED, customer_id="sub-1")
    body = await wire.ok(
        "/v1/recurrence/create",
        customer_id="sub-1",
        recurrence={
            "amount": 9.99,
            "start_date": "04/22/2026",
            "frequency": 3,
            "total_count": 999,
            "transaction_type": "sale",
            "description": "Monthly",
            "customer_receipt": True,
        },
    )
    unknown = await wire.refused(
        "/v1/recurrence/create",
        customer_id="nobody",
        recurrence={"amount": 1, "start_date": "04/22/2026", "frequency": 3},
    )
    assert isinstance(body["recurrence"]["id"], int)
    assert "30" in unknown["errors"]


async def test_export_by_date_range_field_set(wire):
    await wire.ok(
        "/v1/transactions/sale/keyed",
        wire.KEYED,
        invoice_id="inv1234",
        credit_card={**wire.KEYED["credit_card"], "number": "5454545454545454"},
        tax_amount="8.10",
        customer_reference_id="PO123456",
        amount=110,
    )
    await wire.ok("/v1/transactions/settle")
    body = await wire.ok(
        "/v1/transactions/export/by_date_range",
        start_date="03/24/2026",
        end_date="03/24/2026",
        transaction_type="SETTLED",
        including_text="inv1234",
    )
    record = body["transactions"][0]

    assert {
        k: body[k]
        for k in ("success", "response_code", "status_message", "external_transaction_id")
    } == {
        "success": True,
        "response_code": 1,
        "status_message": "Your request has been successfully completed.",
        "external_transaction_id": "",
    }
    assert {
        "transaction_id",
        "credit_card",
        "transaction_type",
        "description",
        "amount",
        "invoice_id",
        "shipping_address",
        "billing_address",
        "receipt_emailed_to",
        "tax_amount",
        "customer_reference_id",
        "approval_code",
        "approval_message",
        "avs_response",
        "csc_response",
        "status_code",
        "status_message",
        "created",
        "settled",
        "customer_id",
    } <= set(record)
    assert record["credit_card"] == {
        "masked_number": "************5454",
        "expiration_month": 12,
        "expiration_year": 26,
    }
    assert (record["amount"], record["tax_amount"]) == (110, "8.10")
    assert set(record["created"]) == {"through", "at", "by", "from_ip"}
    assert record["created"]["at"] == "3/24/2026 10:15:02 AM"
    assert record["settled"] == "3/24/2026 10:15:02 AM"
    assert set(record["shipping_address"]) == {
        "name",
        "street_address",
        "street_address2",
        "city",
        "county",
        "state",
        "zip",
        "country",
    }


async def test_export_by_id_and_include_bin(wire):
    sale = await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    body = await wire.ok(
        "/v1/transactions/export/by_id",
        transaction_id=sale["transaction_id"],
        include_bin=True,
    )
    assert [t["credit_card"]["masked_number"] for t in body["transactions"]] == ["401200******5439"]


async def test_batch_endpoints_exist(wire):
    await wire.ok("/v1/transactions/sale/keyed", wire.KEYED)
    await wire.ok("/v1/transactions/settle")
    one = await wire.ok("/v1/batches/export_one")
    by_date = await wire.ok("/v1/batches/export", start_date="03/24/2026", end_date="03/24/2026")
    listed = await wire.ok(
        "/v1/batches/transaction_list", batch_number=one["batches"][0]["batch_number"]
    )
    assert by_date["batches"] == one["batches"]
    assert len(listed["transactions"]) == 1
