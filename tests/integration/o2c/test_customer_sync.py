"""Customer and token sync between the D365 and PayTrace sandboxes, checked field by field on
both sides."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payledger.adapters.paytrace import PayTraceAddress, PayTraceCustomerDetails
from payledger.adapters.paytrace.schemas import PayTraceRecurrenceSpec
from payledger.bootstrap import Container, customer_sync_command, customer_sync_parts
from payledger.domain.card_data import find_card_data
from payledger.flows.sync_customers import SyncReport, run_customer_sync
from tests.integration.o2c.conftest import encrypted_card


async def sync(container: Container) -> SyncReport:
    """One customer sync as the scheduled job runs it."""
    return await run_customer_sync(
        customer_sync_command(container.settings), await customer_sync_parts(container)
    )


async def vault_card(shop, customer_id: str, name: str, **details) -> None:
    profile = PayTraceCustomerDetails(
        billing_address=PayTraceAddress(name=name, **details.pop("address", {})), **details
    )
    result = await shop.create_customer(customer_id, card=encrypted_card(), profile=profile)
    assert result.success, result


async def monthly(shop, customer_id: str) -> None:
    spec = PayTraceRecurrenceSpec(
        amount=Decimal("19.99"), start_date=date(2030, 12, 1), frequency="3"
    )
    await shop.create_recurrence(customer_id, spec)


async def patch_customer(container, account: str, **changes) -> None:
    client = await container.d365_client()
    await client.update("CustomersV3", {"dataAreaId": "usmf", "CustomerAccount": account}, changes)


async def test_flagged_customers_and_profiles_end_up_in_step_on_both_sides(
    container, stage, shop, d365_rows
):
    await patch_customer(container, "US-001", PayTraceSync="Yes")
    await vault_card(
        shop, "shop-001", "Contoso SD", phone="+1-619-555-0100",
        discretionary_data={"D365 Customer": "US-001"},
    )  # fmt: skip
    await vault_card(
        shop, "shop-ada", "Ada Lovelace", email="ada@example.com",
        address={"street_address": "12 St James's Sq", "city": "London", "zip": "SW1Y 4JH",
                 "country": "GB"},
    )  # fmt: skip

    report = await sync(container)

    assert report.failures == []
    [us001] = await d365_rows("CustomersV3", CustomerAccount="US-001")
    assert us001["PayTraceCustomerId"] == "shop-001"  # the token id, written back
    assert us001["PrimaryContactPhone"] == "+1-619-555-0100"  # empty in D365: filled
    assert us001["OrganizationName"] == "Contoso Retail San Diego"  # D365 wins
    profile = stage.paytrace.state.customers["shop-001"]
    assert profile.billing_address["name"] == "Contoso Retail San Diego"
    assert profile.billing_address["street_address"] == "456 Peach Road"
    assert profile.billing_address["city"] == "San Diego"
    assert profile.billing_address["state"] == "CA"
    assert profile.billing_address["zip"] == "92127"
    assert profile.email == "ap@us-001.example"
    assert profile.phone == "+1-619-555-0100"
    assert profile.discretionary_data == {"D365 Customer": "US-001"}
    assert profile.card is not None and profile.card.number == "4012000098765439"  # untouched

    [ada] = await d365_rows("CustomersV3", PayTraceCustomerId="shop-ada")
    assert report.created_in_erp == [ada["CustomerAccount"]]
    assert (ada["PersonFirstName"], ada["PersonLastName"]) == ("Ada", "Lovelace")
    assert ada["PartyType"] == "Person"
    assert ada["PayTraceSync"] == "Yes"
    assert ada["PrimaryContactEmail"] == "ada@example.com"
    assert (ada["AddressStreet"], ada["AddressCity"], ada["AddressZipCode"]) == (
        "12 St James's Sq",
        "London",
        "SW1Y 4JH",
    )
    assert ada["AddressCountryRegionISOCode"] == "GB"
    assert ada["CustomerGroupId"] == "30"
    assert stage.paytrace.state.customers["shop-ada"].discretionary_data == {
        "D365 Customer": ada["CustomerAccount"]
    }
    assert all(find_card_data(row) == [] for row in (us001, ada))  # tokens only

    again = await sync(container)
    assert again.changes == [] and again.created_in_erp == []
    assert again.paired == 2 and again.in_step == 2


async def test_blocked_and_deleted_customers_lose_auto_pay(container, stage, shop, d365_rows):
    await vault_card(shop, "shop-003", "Forest Wholesales")
    await monthly(shop, "shop-003")
    await patch_customer(
        container, "US-003", PayTraceCustomerId="shop-003", PayTraceAutoPay="Yes",
        OnHoldStatus="All",
    )  # fmt: skip
    await vault_card(shop, "shop-gone", "Gone Ltd", discretionary_data={"D365 Customer": "US-099"})
    await monthly(shop, "shop-gone")

    report = await sync(container)

    [us003] = await d365_rows("CustomersV3", CustomerAccount="US-003")
    assert us003["PayTraceAutoPay"] == "No"
    assert report.auto_pay_disabled == ["US-003"]
    assert report.deleted_in_erp == ["shop-gone"]
    assert report.recurrences_stopped == 2
    recurrences = stage.paytrace.state.recurrences.values()
    assert [r.active for r in recurrences if r.customer_id in ("shop-003", "shop-gone")] == [
        False,
        False,
    ]


async def test_with_paytrace_winning_profile_contact_details_reach_d365(
    database_url, tmp_path, stage, shop, d365_rows
):
    from payledger.config import SyncSettings
    from tests.integration.o2c.conftest import o2c_settings, open_container

    settings = o2c_settings(
        database_url, tmp_path, stage, sync=SyncSettings(conflict_policy="paytrace")
    )
    container = await open_container(settings)
    try:
        await patch_customer(container, "US-002", PayTraceSync="Yes", PayTraceCustomerId="p-2")
        await vault_card(shop, "p-2", "Contoso LA", email="billing@contoso-la.example")

        await sync(container)
    finally:
        await container.aclose()

    [us002] = await d365_rows("CustomersV3", CustomerAccount="US-002")
    assert us002["PrimaryContactEmail"] == "billing@contoso-la.example"  # PayTrace won
    assert us002["OrganizationName"] == "Contoso Retail Los Angeles"  # names stay D365's
    profile = stage.paytrace.state.customers["p-2"]
    assert profile.email == "billing@contoso-la.example"
    assert profile.billing_address["street_address"] == "789 Grape St"  # empty side filled
    assert profile.discretionary_data == {"D365 Customer": "US-002"}
