"""Enrichment lookups asked for together become one query; each caller still gets its own
answer, or the error."""

from __future__ import annotations

import asyncio

import pytest

from payledger.adapters.d365.posting import GatheredLookups
from payledger.domain.errors import TransientError


class Invoices:
    def __init__(self, *numbers: str, fail: Exception | None = None) -> None:
        self.rows = [{"InvoiceNumber": number} for number in numbers]
        self.fail = fail
        self.queries: list[list[str]] = []

    async def fetch(self, keys: list[str]) -> list[dict[str, str]]:
        self.queries.append(keys)
        if self.fail:
            raise self.fail
        return [row for row in self.rows if row["InvoiceNumber"].casefold() in keys]


async def test_keys_asked_for_together_are_one_query_of_at_most_the_limit():
    d365 = Invoices("INV-1", "INV-2", "INV-3")
    gathered = GatheredLookups(d365.fetch, "InvoiceNumber", most=2)
    found = await asyncio.gather(*(gathered.get(k) for k in ("inv-1", "INV-2", "INV-3", "INV-9")))
    assert [row and row["InvoiceNumber"] for row in found] == ["INV-1", "INV-2", "INV-3", None]
    assert [len(keys) for keys in d365.queries] == [2, 2]


async def test_the_same_key_twice_is_asked_once():
    d365 = Invoices("INV-1")
    gathered = GatheredLookups(d365.fetch, "InvoiceNumber")
    first, second = await asyncio.gather(gathered.get("INV-1"), gathered.get("inv-1"))
    assert first == second == {"InvoiceNumber": "INV-1"}
    assert d365.queries == [["inv-1"]]


async def test_a_failed_query_fails_every_caller_so_each_job_retries():
    d365 = Invoices(fail=TransientError("503", system="d365"))
    gathered = GatheredLookups(d365.fetch, "InvoiceNumber")
    answers = await asyncio.gather(
        gathered.get("INV-1"), gathered.get("INV-2"), return_exceptions=True
    )
    assert all(isinstance(answer, TransientError) for answer in answers)
    assert d365.queries == [["inv-1", "inv-2"]]  # one query failed both
    d365.fail = None
    assert await gathered.get("INV-1") is None  # a later ask queries again
    assert len(d365.queries) == 2


async def test_a_caller_giving_up_does_not_fail_the_others():
    d365 = Invoices("INV-1", "INV-2")
    gathered = GatheredLookups(d365.fetch, "InvoiceNumber", window_s=0.05)
    impatient = asyncio.create_task(gathered.get("INV-1"))
    patient = asyncio.create_task(gathered.get("INV-2"))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await patient == {"InvoiceNumber": "INV-2"}
    with pytest.raises(asyncio.CancelledError):
        await impatient
