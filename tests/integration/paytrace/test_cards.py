"""The connector's card endpoints against the sandbox: approvals, declines and every error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.adapters.paytrace import (
    PayTraceAddress,
    PayTraceAuthError,
    PayTraceCustomerDetails,
    PayTraceProtectNonce,
    PayTraceRejected,
)
from payledger.domain import DomainError
from payledger.sandbox.paytrace import encrypt_field, protect_nonce

D = Decimal


async def test_keyed_sale_is_approved_with_a_masked_card(client, card, details, sandbox):
    result = await client.sale_keyed(D("1.00"), card(), details=details(invoice_id="INV-1001"))

    assert result.success and result.response_code == 101
    assert result.approval_code.startswith("TAS") and len(result.approval_code) == 6
    assert result.masked_card_number == "xxxxxxxxxxxx5439"
    stored = sandbox.state.transactions[result.transaction_id]
    assert stored.details["invoice_id"] == "INV-1001"
    assert stored.status == "PENDING"


async def test_amount_1_12_is_declined_not_raised(client, card, details):
    result = await client.sale_keyed(D("1.12"), card(), details=details())

    assert not result.success
    assert result.response_code == 102
    assert result.approval_code == ""
    assert result.approval_message == "    DECLINE - Do not honor"
    assert result.transaction_id is not None


async def test_amount_0_29_is_declined_as_expired_card(client, card, details):
    result = await client.authorize_keyed(D("0.29"), card(), details=details())

    assert (result.success, result.response_code) == (False, 102)
    assert result.approval_message == "  EXPIRED CARD - Expired card"


async def test_bad_card_number_and_month_raise_35_and_43_together(client, card, details):
    with pytest.raises(PayTraceRejected) as refused:
        await client.sale_keyed(D("1.00"), card("4012000098765430", 14), details=details())

    assert refused.value.codes == [35, 43]
    assert refused.value.messages == [
        "Please provide a valid Credit Card Number.",
        "Please provide a valid Expiration Month.",
    ]
    assert refused.value.status == 400


async def test_csc_999_matches_and_other_cscs_do_not(client, card):
    match = await client.sale_keyed(D("2.00"), card(), encrypted_csc=encrypt_field("999"))
    mismatch = await client.sale_keyed(D("2.00"), card(), encrypted_csc=encrypt_field("123"))
    amex = await client.sale_keyed(
        D("2.00"), card("371449635392376"), encrypted_csc=encrypt_field("1234")
    )

    assert (match.csc_response, mismatch.csc_response, amex.csc_response) == (
        "Match",
        "No Match",
        "",
    )


async def test_avs_compares_street_and_zip_with_the_address_on_file(client, card, details):
    def at(street: str, zip_code: str):
        address = PayTraceAddress(name="Pat", street_address=street, zip=zip_code)
        return details(billing_address=address)

    full = await client.sale_keyed(D("3.00"), card(), details=at("100 Main St.", "99201"))
    zip_only = await client.sale_keyed(D("3.00"), card(), details=at("7 Elm St.", "99201"))
    street_only = await client.sale_keyed(D("3.00"), card(), details=at("100 Main St.", "10001"))
    none = await client.sale_keyed(D("3.00"), card(), details=at("7 Elm St.", "10001"))

    assert full.avs_response == "Full Exact Match"
    assert full.approval_message == "EXACT MATCH - Approved and completed"
    assert zip_only.avs_response == "Zip Match Only"
    assert street_only.avs_response == "Address Match Only"
    assert none.avs_response == "No Match"
    assert none.approval_message == "  NO  MATCH - Approved and completed"


async def test_sale_by_customer_omits_the_masked_card(client, card, details):
    await client.create_customer(
        "cust-0042",
        card=card(),
        profile=PayTraceCustomerDetails(billing_address=PayTraceAddress(name="Nathan Williams")),
    )
    result = await client.sale_by_customer(D("25.00"), "cust-0042", details=details())

    assert result.success and result.response_code == 101
    assert result.masked_card_number == ""


async def test_authorization_by_customer_waits_for_capture(client, card, sandbox):
    await client.create_customer("cust-auth", card=card())
    held = await client.authorize_by_customer(D("40.00"), "cust-auth")

    assert held.success and held.masked_card_number == ""
    assert sandbox.state.transactions[held.transaction_id].status == "AUTHORIZED"
    assert sandbox.state.transactions[held.transaction_id].customer_id == "cust-auth"


async def test_sale_by_unknown_customer_raises_30(client, details):
    with pytest.raises(PayTraceRejected) as refused:
        await client.sale_by_customer(D("25.00"), "nobody", details=details())

    assert refused.value.errors == {30: ["Customer ID, nobody, was not found or is incomplete."]}


async def test_sale_and_authorization_by_transaction_reuse_the_card(client, card, details, sandbox):
    first = await client.sale_keyed(D("5.00"), card("5499740000000057"), details=details())
    again = await client.sale_by_transaction(D("6.00"), first.transaction_id, details=details())
    held = await client.authorize_by_transaction(D("7.00"), first.transaction_id)

    assert again.success and held.success
    assert sandbox.state.transactions[again.transaction_id].card.number.endswith("0057")
    assert sandbox.state.transactions[held.transaction_id].status == "AUTHORIZED"


async def test_by_transaction_with_an_unknown_id_raises_811(client):
    with pytest.raises(PayTraceRejected) as refused:
        await client.sale_by_transaction(D("5.00"), 999)
    assert refused.value.codes == [811]


async def test_protect_nonce_sale_and_authorization(client, sandbox, details):
    made = protect_nonce("5454545454545454", 11, 2028, csc="999")
    nonce = PayTraceProtectNonce(hpf_token=made.hpf_token, enc_key=made.enc_key)

    sale = await client.sale_protect(D("9.00"), nonce, details=details())
    auth = await client.authorize_protect(D("9.00"), nonce, details=details())

    assert sale.masked_card_number == "xxxxxxxxxxxx5454"
    assert sale.csc_response == "Match"
    assert sandbox.state.transactions[auth.transaction_id].status == "AUTHORIZED"


async def test_protect_without_token_is_refused(client):
    with pytest.raises(PayTraceRejected) as refused:
        await client.sale_protect(D("9.00"), PayTraceProtectNonce(hpf_token="", enc_key=""))
    assert refused.value.codes == [9113]


async def test_protect_client_key(client):
    assert len(await client.protect_client_key()) == 48


async def test_authorize_then_capture_in_full_and_in_part(client, card, details, sandbox):
    full = await client.authorize_keyed(D("5.00"), card(), details=details())
    part = await client.authorize_by_transaction(D("5.00"), full.transaction_id)

    captured = await client.capture(full.transaction_id)
    partly = await client.capture(part.transaction_id, D("2.00"))

    assert (captured.response_code, captured.transaction_id) == (112, full.transaction_id)
    assert sandbox.state.transactions[part.transaction_id].amount == D("2.00")
    assert partly.status_message == "Your transaction was successfully captured."


async def test_capture_errors_58_811_816(client, card, details):
    sale = await client.sale_keyed(D("5.00"), card(), details=details())
    auth = await client.authorize_keyed(D("5.00"), card(), details=details())
    for transaction_id, code in ((0, 811), (123, 811), (sale.transaction_id, 816)):
        with pytest.raises(PayTraceRejected) as refused:
            await client.capture(transaction_id)
        assert refused.value.codes == [code]
    with pytest.raises(PayTraceRejected) as too_much:
        await client.capture(auth.transaction_id, D("5.01"))
    assert too_much.value.codes == [9102]


async def test_void_before_settlement_then_818_after(client, card, details):
    voidable = await client.sale_keyed(D("4.00"), card(), details=details())
    settled = await client.sale_keyed(D("4.00"), card(), details=details())
    await client.void(voidable.transaction_id)
    await client.settle()

    with pytest.raises(PayTraceRejected) as refused:
        await client.void(settled.transaction_id)
    assert refused.value.codes == [818]


async def test_refund_only_after_settlement_never_above_the_original(client, card, details):
    sale = await client.sale_keyed(D("10.00"), card(), details=details())
    with pytest.raises(PayTraceRejected) as early:
        await client.refund_transaction(sale.transaction_id)
    assert early.value.codes == [817]

    settled = await client.settle()
    first = await client.refund_transaction(sale.transaction_id, D("4.00"), details=details())
    with pytest.raises(PayTraceRejected) as too_much:
        await client.refund_transaction(sale.transaction_id, D("6.01"))
    rest = await client.refund_transaction(sale.transaction_id)

    assert settled.batch_number is not None
    assert (first.response_code, first.masked_card_number) == (106, "xxxxxxxxxxxx5439")
    assert first.transaction_id != sale.transaction_id
    assert too_much.value.codes == [9102]
    assert rest.success


async def test_keyed_and_customer_refunds(client, card, details):
    await client.create_customer("refundee", card=card())
    keyed = await client.refund_keyed(D("3.00"), card(), details=details())
    to_customer = await client.refund_to_customer(D("2.00"), "refundee")
    assert keyed.response_code == to_customer.response_code == 106


async def test_refund_without_permission_raises_981_as_auth_error(make_client, settings, card):
    settings.denied_operations = frozenset({"refund"})
    async with make_client() as client:
        with pytest.raises(PayTraceAuthError) as refused:
            await client.refund_keyed(D("3.00"), card())
    assert refused.value.error == "981"


async def test_adjust_an_authorization_within_130_percent(client, card, details, sandbox):
    auth = await client.authorize_keyed(D("10.00"), card(), details=details())

    adjusted = await client.adjust(auth.transaction_id, D("13.00"))
    with pytest.raises(PayTraceRejected) as refused:
        await client.adjust(auth.transaction_id, D("13.01"))

    assert adjusted.success and adjusted.amount == D("13.00")
    assert sandbox.state.transactions[auth.transaction_id].amount == D("13.00")
    assert refused.value.codes == [9103]


async def test_email_receipt_names_the_transaction_and_address(client, card, details):
    sale = await client.sale_keyed(D("1.00"), card(), details=details())
    sent = await client.email_receipt(sale.transaction_id, "email@domain.com")
    assert sent.response_code == 149
    assert sent.status_message == (
        f"The receipt for transaction ID {sale.transaction_id} was successfully emailed to "
        "email@domain.com."
    )


async def test_settle_reports_the_closed_batch(client, card, details):
    await client.sale_keyed(D("10.00"), card(), details=details())
    await client.sale_keyed(D("5.50"), card(), details=details())
    batch = await client.settle()
    empty = await client.settle()

    assert (batch.transaction_count, batch.net_amount) == (2, D("15.50"))
    assert empty.batch_number is None


async def test_discretionary_data_is_stored_and_echoed(client, card, details):
    sale = await client.sale_keyed(
        D("1.00"), card(), details=details(discretionary_data={"Project Code": "A17"})
    )
    declined = await client.sale_keyed(
        D("1.12"), card(), details=details(discretionary_data={"Project Code": "B2"})
    )
    record = await client.export_transaction(sale.transaction_id)

    assert record.discretionary_data == {"Project Code": "A17"}
    assert declined.discretionary_data == {"Project Code": "B2"}


async def test_discretionary_titles_must_be_configured_ones(make_client, settings, card, details):
    settings.discretionary_fields = ("SO Number",)
    async with make_client() as client:
        ok = await client.sale_keyed(
            D("1.00"), card(), details=details(discretionary_data={"SO Number": "SO-1"})
        )
        with pytest.raises(PayTraceRejected) as refused:
            await client.sale_keyed(
                D("1.00"), card(), details=details(discretionary_data={"Unknown": "x"})
            )
    assert ok.success and refused.value.codes == [9109]


@pytest.mark.parametrize("amount", [D("0"), D("-1.00"), D("1.001")])
async def test_amounts_must_be_positive_cents(client, card, amount):
    with pytest.raises(DomainError):
        await client.sale_keyed(amount, card())
