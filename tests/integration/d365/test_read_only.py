"""A read-only connector (shadow mode) reads as usual and refuses every write before sending."""

from __future__ import annotations

import pytest

from payledger.adapters.d365 import BatchRequest, D365Client, ODataQuery, WritesDisabled
from tests.integration.d365.conftest import BASE


@pytest.fixture
async def read_only(credential, transport, fast_retry):
    async with D365Client(
        BASE, credential, transport=transport, retry=fast_retry, read_only=True
    ) as d365:
        yield d365


async def test_reads_work_and_writes_are_refused_unsent(read_only, sandbox):
    customers = await read_only.collect(ODataQuery("CustomersV3").top(3))
    assert len(customers) == 3
    header = {"dataAreaId": "usmf", "JournalName": "CustPay", "Description": "x"}
    with pytest.raises(WritesDisabled, match="shadow mode"):
        await read_only.create("CustomerPaymentJournalHeaders", header)
    batch = BatchRequest()
    batch.changeset().post("CustomerPaymentJournalHeaders", header)
    with pytest.raises(WritesDisabled):
        await read_only.batch(batch)
    assert sandbox.state.stats.write_requests == 0
    assert sandbox.state.stats.batches == 0


async def test_the_sandbox_counts_write_requests(client, sandbox):
    header = {"dataAreaId": "usmf", "JournalName": "CustPay", "Description": "counted"}
    await client.create("CustomerPaymentJournalHeaders", header)
    batch = BatchRequest()
    batch.changeset().post("CustomerPaymentJournalHeaders", {**header, "Description": "b"})
    await client.batch(batch)
    assert sandbox.state.stats.write_requests == 2
