"""Queries: filters with escaping, wildcards and enums; select, order, count, expand, paging."""

from __future__ import annotations

import pytest

from payledger.adapters.d365 import D365NotFound, EnumValue, NextLinkPaginator, ODataQuery, field
from payledger.domain.errors import RejectedError

CUSTOMERS = ODataQuery("CustomersV3").select("dataAreaId", "CustomerAccount", "OrganizationName")


async def test_quote_in_a_string_literal_is_doubled(client):
    rows = await client.collect(CUSTOMERS.where(field("OrganizationName").eq("O'Brien Hardware")))

    assert [r["CustomerAccount"] for r in rows] == ["US-006"]


async def test_wildcard_match_ignores_case(client):
    rows = await client.collect(
        CUSTOMERS.in_company_only().where(field("OrganizationName").contains("contoso retail"))
    )

    assert {r["CustomerAccount"] for r in rows} == {"US-001", "US-002", "US-005"}


async def test_enum_literals_and_boolean_combinations(client):
    backorder = field("SalesOrderStatus").eq(EnumValue("SalesStatus", "Backorder"))
    query = (
        ODataQuery("SalesOrderHeadersV2")
        .select("SalesOrderNumber")
        .where(backorder & ~field("OrderingCustomerAccountNumber").eq("US-002"))
    )

    numbers = [r["SalesOrderNumber"] for r in await client.collect(query)]

    assert numbers == ["000001", "000003"]


async def test_enum_compared_with_a_plain_string_is_refused(client):
    query = ODataQuery("SalesOrderHeadersV2").where(field("SalesOrderStatus").eq("Backorder"))

    with pytest.raises(RejectedError, match="incompatible types") as caught:
        await client.collect(query)
    assert caught.value.status == 400


async def test_select_orderby_top_skip_and_count(client):
    query = CUSTOMERS.order_by("CustomerAccount", descending=True).skip(1).top(2).count()

    page = await client.query_page(query)

    assert [r["CustomerAccount"] for r in page.rows] == ["US-005", "US-004"]
    assert page.count == 8
    assert set(page.rows[0]) == {"@odata.etag", "dataAreaId", "CustomerAccount", "OrganizationName"}
    assert await client.count(ODataQuery("CustomersV3").in_company_only()) == 6


async def test_one_level_expand_with_nested_select(client):
    query = (
        ODataQuery("SalesOrderHeadersV2")
        .where(field("SalesOrderNumber").eq("000001"))
        .select("SalesOrderNumber", "OrderTotalAmount")
        .expand("SalesOrderLines", select=("ItemNumber", "LineAmount"))
    )

    (order,) = await client.collect(query)

    assert [line["ItemNumber"] for line in order["SalesOrderLines"]] == ["D0001", "T0001"]
    assert order["OrderTotalAmount"] == sum(line["LineAmount"] for line in order["SalesOrderLines"])


async def test_company_scope_and_cross_company(client):
    mine = await client.collect(CUSTOMERS.in_company_only())
    everyone = await client.collect(CUSTOMERS)

    assert {r["dataAreaId"] for r in mine} == {"usmf"}
    assert {r["dataAreaId"] for r in everyone} == {"usmf", "usrt"}


async def test_key_read_in_another_company_needs_cross_company(client):
    key = {"dataAreaId": "usrt", "CustomerAccount": "RT-002"}
    assert (await client.get("CustomersV3", key))["OrganizationName"] == "Retail Customer Austin"

    with pytest.raises(D365NotFound):
        await client.request(
            "GET", "CustomersV3(dataAreaId='usrt',CustomerAccount='RT-002')", operation="get"
        )


async def test_partial_key_has_no_route(client):
    with pytest.raises(D365NotFound, match="No route data was found"):
        await client.request("GET", "CustomersV3('US-001')", operation="get")


async def test_paging_follows_next_links_across_more_than_three_pages(client, control):
    await control.put("/_sandbox/settings", json={"page_size": 2})
    query = CUSTOMERS.order_by("dataAreaId", "CustomerAccount")

    paginator = NextLinkPaginator()
    rows = []
    while paginator.has_next_page:
        page = await client.query_page(paginator.next_url or query)
        paginator.update_state({"@odata.nextLink": page.next_link})
        rows += page.rows

    assert paginator.pages == 4
    assert len({(r["dataAreaId"], r["CustomerAccount"]) for r in rows}) == 8
    assert len(await client.collect(query)) == 8
    assert len(await client.collect(query.top(5))) == 5
