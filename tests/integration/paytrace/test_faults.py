"""Tokens, retries and the no-blind-retry write policy, driven by sandbox faults."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from payledger.adapters.paytrace import PayTraceAuthError, PayTraceCheck, RetryPolicy
from payledger.domain import AmbiguousOutcome, RateLimited, TransientError

D = Decimal


def sales_with_invoice(sandbox, invoice_id: str) -> list:
    return [
        t for t in sandbox.state.transactions.values() if t.details.get("invoice_id") == invoice_id
    ]


async def test_one_token_serves_many_calls(client, card, details):
    for _ in range(3):
        await client.sale_keyed(D("1.00"), card(), details=details())
    assert client.tokens.fetches == 1


async def test_token_is_renewed_before_it_expires(client, card, details, sandbox):
    await client.sale_keyed(D("1.00"), card(), details=details())
    sandbox.clock.advance(7200 - 299)
    await client.sale_keyed(D("1.00"), card(), details=details())
    assert client.tokens.fetches == 2


async def test_expired_token_gets_one_relogin_and_resend(client, card, details, sandbox, raw):
    await client.sale_keyed(D("1.00"), card(), details=details())
    await raw.post("/_sandbox/tokens/expire")

    result = await client.sale_keyed(D("2.00"), card(), details=details(invoice_id="AFTER"))

    assert result.success
    assert client.tokens.fetches == 2
    assert len(sales_with_invoice(sandbox, "AFTER")) == 1


async def test_wrong_password_is_an_auth_error(make_client, card):
    async with make_client(password="wrong") as client:
        with pytest.raises(PayTraceAuthError) as refused:
            await client.sale_keyed(D("1.00"), card())
    assert refused.value.error == "invalid_grant"
    assert refused.value.status == 401


async def test_ping_needs_no_token(client):
    assert (await client.ping()).success
    assert client.tokens.fetches == 0


async def test_reads_retry_5xx_with_full_jitter_backoff(client, sandbox, sleeps):
    sandbox.faults.settings.update({"error_rate": 1.0})
    with pytest.raises(TransientError) as failed:
        await client.export_batches(sandbox.clock.now().date(), sandbox.clock.now().date())
    assert failed.value.status == 503
    assert len(sleeps) == 3  # the token fetch fails 4 times: 3 pauses
    assert all(0 <= s <= 2.0 for s in sleeps)


async def test_reads_honour_retry_after_on_429(client, sandbox, sleeps):
    sandbox.faults.settings.update({"rate_limit_rate": 1.0, "retry_after_s": 7})
    with pytest.raises(RateLimited) as throttled:
        await client.ping()
    assert throttled.value.retry_after == 7
    assert sleeps == [7, 7, 7]


async def test_a_throttled_sale_is_resent_because_it_never_ran(client, card, details, sandbox, raw):
    await client.ping()
    await client.tokens.get()
    sandbox.faults.settings.update(
        {"rate_limit_mode": "token_bucket", "bucket_size": 0, "bucket_refill_per_s": 0}
    )
    with pytest.raises(RateLimited):
        await client.sale_keyed(D("1.00"), card(), details=details(invoice_id="THROTTLED"))
    assert sales_with_invoice(sandbox, "THROTTLED") == []


async def test_outage_window_on_the_sandbox_clock(client, sandbox, card, details):
    now = sandbox.clock.now()
    sandbox.faults.settings.update(
        {"outage_windows": [(now.isoformat(), (now + timedelta(minutes=5)).isoformat())]}
    )
    with pytest.raises(TransientError):
        await client.ping()
    sandbox.clock.advance(301)
    assert (await client.ping()).success


async def test_commit_then_drop_is_recovered_by_lookup(make_client, sandbox, card, details):
    async with make_client(deadline=0.5) as client:
        await client.tokens.get()
        sandbox.faults.settings.update({"drop_after_commit_rate": 1.0, "hang_s": 30})
        result = await client.sale_keyed(D("8.00"), card(), details=details(invoice_id="DROP-1"))
        sandbox.faults.settings.update({"drop_after_commit_rate": 0.0})

    assert result.recovered and result.success
    assert result.response_code == 101
    assert [t.transaction_id for t in sales_with_invoice(sandbox, "DROP-1")] == [
        result.transaction_id
    ]
    assert sandbox.faults.counts["dropped_after_commit"] == 1


async def test_a_lost_decline_is_recovered_as_a_decline(make_client, sandbox, card, details):
    async with make_client(deadline=0.5) as client:
        await client.tokens.get()
        sandbox.faults.settings.update({"drop_after_commit_rate": 1.0, "hang_s": 30})
        result = await client.sale_keyed(D("1.12"), card(), details=details(invoice_id="DROP-D"))

    assert result.recovered and (result.success, result.response_code) == (False, 102)


async def test_a_5xx_is_looked_up_then_resent_once(make_client, sandbox, card, details):
    now = sandbox.clock.now()
    window = [(now.isoformat(), (now + timedelta(seconds=1)).isoformat())]
    async with make_client(retry=RetryPolicy(lookup_delay_s=2)) as client:
        await client.tokens.get()
        sandbox.faults.settings.update({"outage_windows": window})
        result = await client.sale_keyed(D("3.00"), card(), details=details(invoice_id="RETRY-1"))

    assert result.success and not result.recovered
    assert sandbox.faults.counts["outage"] == 1
    assert len(sales_with_invoice(sandbox, "RETRY-1")) == 1


SALE_PATH = "/v1/transactions/sale/keyed"


async def test_lost_twice_and_never_found_is_ambiguous(make_client, card, details, lost_requests):
    async with make_client(lose={SALE_PATH}) as client:
        with pytest.raises(AmbiguousOutcome) as lost:
            await client.sale_keyed(D("3.00"), card(), details=details(invoice_id="LOST"))

    assert "not found by lookup" in str(lost.value)
    assert lost_requests == [SALE_PATH, SALE_PATH]


async def test_without_resend_policy_a_negative_lookup_raises_at_once(
    make_client, card, details, lost_requests
):
    policy = RetryPolicy(lookup_delay_s=0, resend_after_negative_lookup=False)
    async with make_client(retry=policy, lose={SALE_PATH}) as client:
        with pytest.raises(AmbiguousOutcome):
            await client.sale_keyed(D("3.00"), card(), details=details(invoice_id="ONCE"))
    assert lost_requests == [SALE_PATH]


async def test_a_failed_lookup_is_ambiguous_and_nothing_is_resent(
    make_client, sandbox, card, details
):
    async with make_client(deadline=0.25) as client:
        await client.tokens.get()
        sandbox.faults.settings.update({"timeout_rate": 1.0, "hang_s": 30})
        with pytest.raises(AmbiguousOutcome) as lost:
            await client.sale_keyed(D("3.00"), card(), details=details(invoice_id="DARK"))

    assert "lookup failed" in str(lost.value)
    assert sandbox.faults.counts["timeouts"] == 1 + 4  # one sale, four lookup attempts


async def test_a_write_without_lookup_key_is_never_resent(client, sandbox, card):
    await client.tokens.get()
    sandbox.faults.settings.update({"error_rate": 1.0})
    with pytest.raises(AmbiguousOutcome) as lost:
        await client.sale_keyed(D("3.00"), card())
    assert "cannot be looked up" in str(lost.value)
    assert sandbox.faults.counts["errors"] == 1


async def test_correlation_field_makes_writes_findable(make_client, sandbox, card):
    async with make_client(deadline=0.5, correlation_field="PAYLEDGER_REF") as client:
        await client.tokens.get()
        sandbox.faults.settings.update({"drop_after_commit_rate": 1.0, "hang_s": 30})
        result = await client.sale_keyed(D("4.00"), card())

    stored = sandbox.state.transactions[result.transaction_id]
    assert result.recovered
    assert len(stored.discretionary_data["PAYLEDGER_REF"]) == 32


async def test_lost_capture_and_void_are_confirmed_by_id(make_client, sandbox, card, details):
    async with make_client(deadline=0.5) as client:
        auth = await client.authorize_keyed(D("5.00"), card(), details=details())
        sale = await client.sale_keyed(D("5.00"), card(), details=details())
        sandbox.faults.settings.update({"drop_after_commit_rate": 1.0, "hang_s": 30})
        captured = await client.capture(auth.transaction_id)
        voided = await client.void(sale.transaction_id)

    assert (captured.recovered, captured.response_code) == (True, 112)
    assert (voided.recovered, voided.response_code) == (True, 109)
    assert sandbox.state.transactions[sale.transaction_id].status == "VOIDED"


async def test_lost_refund_and_customer_create_are_found(make_client, sandbox, card, details):
    async with make_client(deadline=0.5) as client:
        sale = await client.sale_keyed(D("9.00"), card(), details=details())
        await client.settle()
        sandbox.faults.settings.update({"drop_after_commit_rate": 1.0, "hang_s": 30})
        refund = await client.refund_transaction(
            sale.transaction_id, D("4.00"), details=details(invoice_id="RF-1")
        )
        profile = await client.create_customer("lost-cust", card=card())

    assert refund.recovered and refund.response_code == 106
    assert sandbox.state.transactions[refund.transaction_id].type == "REFUND"
    assert profile.customer_id == "lost-cust" and profile.masked_card_number.endswith("5439")


async def test_lost_check_write_is_ambiguous_and_not_resent(make_client, sandbox):
    async with make_client(deadline=0.5) as client:
        await client.tokens.get()
        sandbox.faults.settings.update({"drop_after_commit_rate": 1.0, "hang_s": 30})
        with pytest.raises(AmbiguousOutcome):
            await client.check_sale_by_account(
                D("5.00"), PayTraceCheck(account_number="123456", routing_number="325070760")
            )
    assert len(sandbox.state.checks) == 1
