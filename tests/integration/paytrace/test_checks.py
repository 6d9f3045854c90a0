"""The connector's ACH check endpoints against the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.adapters.paytrace import PayTraceCheck, PayTraceRejected

D = Decimal
ACCOUNT = PayTraceCheck(account_number="123456", routing_number="325070760")


async def test_sale_then_partial_refund(client, sandbox):
    sale = await client.check_sale_by_account(D("20.00"), ACCOUNT)
    refund = await client.check_refund(sale.check_transaction_id, D("5.00"))

    assert (sale.success, sale.response_code) == (True, 120)
    assert refund.response_code == 122
    assert sandbox.state.checks[sale.check_transaction_id].refunded == D("5.00")


async def test_hold_fund_and_void(client, sandbox):
    held = await client.check_hold_by_account(D("30.00"), ACCOUNT)
    other = await client.check_hold_by_account(D("30.00"), ACCOUNT)
    funded = await client.check_fund(held.check_transaction_id, D("25.00"))
    voided = await client.check_void(other.check_transaction_id)

    assert funded.response_code == voided.response_code == 124
    assert sandbox.state.checks[held.check_transaction_id].amount == D("25.00")
    assert sandbox.state.checks[other.check_transaction_id].status == "VOIDED"


async def test_by_customer_uses_the_vaulted_account(client, sandbox):
    await client.create_customer("ach-1", check=ACCOUNT)
    sale = await client.check_sale_by_customer(D("12.00"), "ach-1")
    hold = await client.check_hold_by_customer(D("12.00"), "ach-1")

    assert sale.success and hold.success
    assert sandbox.state.checks[sale.check_transaction_id].account.routing_number == "325070760"


async def test_refund_by_account(client):
    assert (await client.check_refund_by_account(D("3.00"), ACCOUNT)).response_code == 122


async def test_amount_1_12_is_not_processed(client):
    result = await client.check_sale_by_account(D("1.12"), ACCOUNT)
    assert (result.success, result.response_code, result.ach_code) == (False, 125, 0)


async def test_bad_account_and_routing_give_45_and_46(client):
    with pytest.raises(PayTraceRejected) as refused:
        await client.check_sale_by_account(
            D("1.00"), PayTraceCheck(account_number="12", routing_number="123456789")
        )
    assert refused.value.codes == [45, 46]


async def test_unknown_customer_gives_30(client):
    with pytest.raises(PayTraceRejected) as refused:
        await client.check_hold_by_customer(D("1.00"), "nobody")
    assert refused.value.codes == [30]


async def test_managing_a_settled_or_unknown_check_gives_80(client):
    sale = await client.check_sale_by_account(D("5.00"), ACCOUNT)
    await client.settle()
    with pytest.raises(PayTraceRejected) as settled:
        await client.check_void(sale.check_transaction_id)
    with pytest.raises(PayTraceRejected) as unknown:
        await client.check_fund(1)

    assert settled.value.messages == [
        "The Check ID that you have provided was not found in the PayTrace records. "
        "It may already be voided or settled."
    ]
    assert unknown.value.codes == [80]
