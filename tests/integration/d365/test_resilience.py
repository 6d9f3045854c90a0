"""Faults: 429 storms, 5xx, outages, latency and capacity, and writes that commit then time out."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from payledger.adapters.d365 import D365Client, ODataQuery, escape_display_value, field
from payledger.adapters.d365.schemas import D365PaymentJournalLine
from payledger.adapters.d365.throttle import RetryPolicy
from payledger.domain.errors import AmbiguousOutcome, RejectedError, TransientError

BASE = "https://d365.sandbox.test"
CUSTOMERS = ODataQuery("CustomersV3").select("CustomerAccount").in_company_only()


async def set_faults(control, **changes) -> None:
    answer = await control.put("/_sandbox/faults", json=changes)
    assert answer.status_code == 200, answer.text


async def test_429_storm_is_absorbed_by_retry_after_and_aimd(client, control, credential, sandbox):
    await set_faults(
        control,
        rate_limit_mode="token_bucket",
        bucket_size=4,
        bucket_refill_per_s=8,
        retry_after_s=1,
    )
    limit_before = credential.limiter.limit

    results = await asyncio.gather(*(client.first(CUSTOMERS) for _ in range(16)))

    assert all(row is not None for row in results)
    assert sandbox.state.faults.counts["rate_limited"] > 0
    assert credential.limiter.throttled > 0
    assert credential.limiter.limit < limit_before + 16 * 0.25


async def test_5xx_without_a_write_error_is_retried(client, control, sandbox):
    await set_faults(control, error_rate=0.5, error_status=503)

    rows = [await client.first(CUSTOMERS) for _ in range(6)]

    assert all(rows)
    assert sandbox.state.faults.counts["errors"] > 0


async def test_outage_ends_in_a_transient_error(client, control):
    await set_faults(control, outage=True)

    with pytest.raises(TransientError) as caught:
        await client.first(CUSTOMERS)
    assert caught.value.status == 503
    assert caught.value.retryable


async def test_business_rule_failure_is_not_retried(client, sandbox):
    before = sandbox.state.stats.odata_requests

    with pytest.raises(RejectedError):
        await client.create("CustomersV3", {"CustomerGroupId": "nope", "SalesCurrencyCode": "USD"})

    assert sandbox.state.stats.odata_requests == before + 1


async def test_latency_model_queues_beyond_capacity(client, control):
    await client.first(CUSTOMERS)
    await set_faults(control, latency_ms=60, capacity=1)

    started = time.monotonic()
    await asyncio.gather(*(client.first(CUSTOMERS) for _ in range(4)))

    assert time.monotonic() - started >= 0.24


def _line(batch: str, reference: str) -> D365PaymentJournalLine:
    return D365PaymentJournalLine(
        dataAreaId="usmf",
        JournalBatchNumber=batch,
        AccountDisplayValue=escape_display_value("US-002"),
        CreditAmount=Decimal("50"),
        PaymentReference=reference,
    )


@pytest.fixture
async def impatient_client(credential, transport):
    """A client whose writes give up after 0.3 s, as against a server that stalls."""
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    async with D365Client(BASE, credential, transport=transport, retry=retry, timeout=0.3) as d365:
        yield d365


async def test_write_that_commits_then_times_out_is_ambiguous(
    impatient_client, ledger, control, sandbox
):
    header = await ledger.create_payment_journal("ambiguous")
    await set_faults(control, drop_after_commit_rate=1.0)

    with pytest.raises(AmbiguousOutcome):
        await impatient_client.create(
            "CustomerPaymentJournalLines", _line(header.JournalBatchNumber, "pt-9").body()
        )

    assert sandbox.state.faults.counts["dropped_after_commit"] == 1
    assert len(sandbox.state.store.table("CustomerPaymentJournalLines").records) == 1


async def test_create_once_rereads_by_natural_key_instead_of_duplicating(
    impatient_client, ledger, control, sandbox
):
    header = await ledger.create_payment_journal("once")
    await set_faults(control, drop_after_commit_rate=1.0)
    lookup = ledger.keys.payment_reference("pt-10", header.JournalBatchNumber)

    record = await impatient_client.create_once(
        "CustomerPaymentJournalLines", _line(header.JournalBatchNumber, "pt-10").body(), lookup
    )

    assert record["PaymentReference"] == "pt-10"
    assert len(sandbox.state.store.table("CustomerPaymentJournalLines").records) == 1


async def test_batch_that_commits_then_times_out_is_resolved_without_duplicates(
    impatient_client, ledger, control, sandbox
):
    header = await ledger.create_payment_journal("batch ambiguous")
    number = header.JournalBatchNumber
    ledger.client = impatient_client
    await set_faults(control, drop_after_commit_rate=1.0)

    result = await ledger.add_payment_lines(number, [_line(number, "pt-a"), _line(number, "pt-b")])

    assert result.created == []
    assert sorted(row["PaymentReference"] for row in result.existing) == ["pt-a", "pt-b"]
    query = ODataQuery("CustomerPaymentJournalLines").where(field("JournalBatchNumber").eq(number))
    await set_faults(control, drop_after_commit_rate=0.0)
    assert len(await impatient_client.collect(query)) == 2
