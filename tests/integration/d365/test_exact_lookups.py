"""Values from requests and events in F&O lookups: a quote is doubled and finds its own row; a
``*`` is refused before any request, since F&O reads it as a wildcard (the sandbox too)."""

from __future__ import annotations

import pytest

from payledger.adapters.d365 import ODataQuery, field
from payledger.adapters.d365.customers import D365CustomerDirectory
from payledger.adapters.d365.odata import WildcardInValue
from payledger.adapters.d365.receivables import D365Receivables
from payledger.adapters.d365.sales import D365SalesDesk

O_BRIEN = {"dataAreaId": "usmf", "CustomerAccount": "US-006"}  # "O'Brien Hardware"


@pytest.fixture
def directory(client) -> D365CustomerDirectory:
    return D365CustomerDirectory(client, company="usmf")


async def test_a_quote_in_a_looked_up_value_finds_exactly_its_own_customer(client, directory):
    await client.update(
        "CustomersV3", O_BRIEN, {"PrimaryContactEmail": "o'brien@us-006.example"}, etag="*"
    )
    desk = D365SalesDesk(directory)

    found = await desk.customer_with_email("o'brien@us-006.example")

    assert found is not None and found.account == "US-006"
    assert found.row["OrganizationName"] == "O'Brien Hardware"
    assert await desk.customer_with_email("o'brien@us-006") is None  # no prefix match


@pytest.mark.parametrize(
    "lookup",
    [
        lambda directory, receivables: directory.customer("US-00*"),
        lambda directory, receivables: directory.customer_with_gateway_id("vault-*"),
        lambda directory, receivables: D365SalesDesk(directory).customer_with_email("*@x.example"),
        lambda directory, receivables: D365SalesDesk(directory).order("WEB-*"),
        lambda directory, receivables: receivables.invoice("CIV-*"),
        lambda directory, receivables: receivables.sales_order("*"),
        lambda directory, receivables: receivables.card_on_file("US-00*"),
    ],
)
async def test_a_wildcard_in_a_looked_up_value_is_refused_before_d365_is_asked(
    client, directory, ledger, sandbox, lookup
):
    receivables = D365Receivables(ledger)
    await client.collect(ODataQuery("CustomersV3").top(1))  # signed in: only lookups count
    asked = sandbox.state.stats.odata_requests

    with pytest.raises(WildcardInValue, match="cannot be matched exactly"):
        await lookup(directory, receivables)

    assert sandbox.state.stats.odata_requests == asked


async def test_what_the_wildcard_would_have_matched(client):
    """Why it is refused: F&O (and the sandbox) answer an ``eq`` holding ``*`` with every
    record it matches, e.g. all of US-001 ... US-009."""
    query = ODataQuery("CustomersV3").in_company_only().select("CustomerAccount")

    rows = await client.collect(query.where(field("CustomerAccount").matches("US-00*")))

    assert len(rows) > 1 and all(row["CustomerAccount"].startswith("US-00") for row in rows)
