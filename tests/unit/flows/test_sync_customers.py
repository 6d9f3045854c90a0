"""Customer and token sync: pairing, both directions, conflict policy, auto-pay, new customers."""

from __future__ import annotations

from typing import Any

import pytest

from payledger.config import Settings
from payledger.flows.sync_customers import SyncCustomers, SyncTemplates, sync_customers
from payledger.mapping import compile_template, default_templates
from payledger.templates import template_settings
from tests.fakes_customers import FakeCustomerDirectory, FakeCustomerProfiles, profile


@pytest.fixture(scope="module")
def templates() -> SyncTemplates:
    values, defaults = template_settings(Settings()), default_templates()
    return SyncTemplates(
        to_gateway=compile_template(defaults["paytrace_customer_profile"], values),
        to_erp=compile_template(defaults["d365_customer_from_paytrace"], values),
        new_erp_customer=compile_template(defaults["d365_customer"], values),
    )


def d365(account: str, name: str, **fields: Any) -> dict[str, Any]:
    row = {
        "dataAreaId": "usmf",
        "CustomerAccount": account,
        "OrganizationName": name,
        "PrimaryContactEmail": "",
        "PrimaryContactPhone": "",
        "AddressStreet": "",
        "AddressCity": "",
        "PayTraceCustomerId": "",
        "PayTraceSync": "Yes",
        "PayTraceAutoPay": "No",
        "OnHoldStatus": "No",
    }
    return {**row, **fields}


def command(**changes: Any) -> SyncCustomers:
    return SyncCustomers(
        customer_title="D365 Customer", erp_id_field="PayTraceCustomerId", **changes
    )


async def run(erp, gateway, templates, **changes: Any):
    return await sync_customers(command(**changes), erp=erp, gateway=gateway, templates=templates)


async def test_a_pair_linked_by_account_gets_ids_on_both_sides_and_fills_empty_fields(templates):
    erp = FakeCustomerDirectory(
        d365("US-101", "Acme Stores", PrimaryContactEmail="ap@acme.example", AddressCity="Seattle")
    )
    gateway = FakeCustomerProfiles(
        profile("cust-7", "Acme", phone="+1-206-555-0101", street="1 Main St", account="US-101")
    )

    report = await run(erp, gateway, templates)

    assert report.paired == 1 and report.failures == []
    [(account, to_erp)] = erp.updates
    assert account == "US-101"
    assert to_erp == {
        "PayTraceCustomerId": "cust-7",  # the token's id, written back
        "PrimaryContactPhone": "+1-206-555-0101",  # D365 had none: filled from PayTrace
        "AddressStreet": "1 Main St",
    }
    [(profile_id, to_gateway)] = gateway.updates
    assert profile_id == "cust-7"
    assert to_gateway == {
        "billing_address.name": "Acme Stores",  # both hold a name: D365 wins by default
        "billing_address.city": "Seattle",
        "email": "ap@acme.example",
    }
    assert report.conflicts == 1 and report.ids_written == 1


async def test_with_paytrace_winning_the_profile_values_go_to_d365(templates):
    erp = FakeCustomerDirectory(
        d365("US-102", "Beta", PayTraceCustomerId="cust-8", PrimaryContactEmail="old@beta.example")
    )
    gateway = FakeCustomerProfiles(profile("cust-8", "Beta", email="new@beta.example"))

    report = await run(erp, gateway, templates, conflict_policy="paytrace")

    assert erp.updates == [("US-102", {"PrimaryContactEmail": "new@beta.example"})]
    assert gateway.updates == [("cust-8", {"discretionary_data.D365 Customer": "US-102"})]
    assert report.conflicts == 1


async def test_the_same_difference_with_d365_winning_goes_the_other_way(templates):
    erp = FakeCustomerDirectory(
        d365("US-102", "Beta", PayTraceCustomerId="cust-8", PrimaryContactEmail="old@beta.example")
    )
    gateway = FakeCustomerProfiles(
        profile("cust-8", "Beta", email="new@beta.example", account="US-102")
    )

    await run(erp, gateway, templates)

    assert erp.updates == []
    assert gateway.updates == [("cust-8", {"email": "old@beta.example"})]


async def test_a_second_run_finds_everything_in_step(templates):
    erp = FakeCustomerDirectory(d365("US-103", "Gamma", PrimaryContactEmail="g@gamma.example"))
    gateway = FakeCustomerProfiles(profile("US-103", "Gamma Ltd", phone="555-0100"))
    await run(erp, gateway, templates)
    erp.updates.clear()
    gateway.updates.clear()

    again = await run(erp, gateway, templates)

    assert (erp.updates, gateway.updates) == ([], [])
    assert again.in_step == 1 and again.changes == []


async def test_a_flagged_customer_without_a_profile_waits_for_a_card(templates):
    erp = FakeCustomerDirectory(d365("US-104", "Delta"))
    report = await run(erp, FakeCustomerProfiles(), templates)
    assert report.awaiting_card == ["US-104"]
    assert erp.updates == []


async def test_a_blocked_customer_has_auto_pay_turned_off_and_its_schedules_stopped(templates):
    erp = FakeCustomerDirectory(
        d365("US-105", "Eps", PayTraceCustomerId="cust-9", PayTraceAutoPay="Yes",
             OnHoldStatus="All", PayTraceSync="No")
    )  # fmt: skip
    gateway = FakeCustomerProfiles(
        profile("cust-9", "Eps", account="US-105"), recurring={"cust-9": 2}
    )

    report = await run(erp, gateway, templates)

    assert erp.rows["US-105"]["PayTraceAutoPay"] == "No"
    assert report.auto_pay_disabled == ["US-105"] and report.recurrences_stopped == 2
    assert gateway.updates == []  # not flagged: nothing else is synced


async def test_a_customer_deleted_in_d365_has_its_profile_schedules_stopped(templates):
    gateway = FakeCustomerProfiles(
        profile("cust-10", "Zeta", account="US-106"), recurring={"cust-10": 1}
    )

    report = await run(FakeCustomerDirectory(), gateway, templates)

    assert report.deleted_in_erp == ["cust-10"] and report.recurrences_stopped == 1
    assert gateway.recurring == {}


async def test_a_profile_without_a_d365_customer_gets_one_and_learns_its_account(templates):
    erp = FakeCustomerDirectory()
    gateway = FakeCustomerProfiles(profile("cust-11", "Nathan Williams", email="nw@example.com"))

    report = await run(erp, gateway, templates)

    [created] = erp.created
    assert created["PersonFirstName"] == "Nathan" and created["PersonLastName"] == "Williams"
    assert created["PayTraceCustomerId"] == "cust-11"
    assert created["PayTraceSync"] == "Yes"
    assert created["PrimaryContactEmail"] == "nw@example.com"
    assert gateway.updates == [
        ("cust-11", {"discretionary_data.D365 Customer": created["CustomerAccount"]})
    ]
    assert report.created_in_erp == [created["CustomerAccount"]]


async def test_creating_d365_customers_can_be_turned_off(templates):
    erp = FakeCustomerDirectory()
    gateway = FakeCustomerProfiles(profile("cust-12", "Eta"))
    report = await run(erp, gateway, templates, create_erp_customers=False)
    assert erp.created == [] and report.unlinked == ["cust-12"]


async def test_a_dry_run_reports_and_writes_nothing(templates):
    erp = FakeCustomerDirectory(d365("US-107", "Theta", AddressCity="Reno"))
    gateway = FakeCustomerProfiles(profile("US-107", "Theta"), profile("cust-13", "Iota"))

    report = await run(erp, gateway, templates, dry_run=True)

    assert (erp.updates, erp.created, gateway.updates) == ([], [], [])
    assert {change.side for change in report.changes} == {"erp", "gateway"}
    assert report.created_in_erp == ["(new)"]


async def test_a_profile_that_cannot_be_mapped_is_reported_and_the_rest_goes_on(templates):
    erp = FakeCustomerDirectory(d365("US-108", "Kappa", AddressCity="Austin"))
    gateway = FakeCustomerProfiles(profile("cust-14", ""), profile("US-108", "Kappa"))

    report = await run(erp, gateway, templates)

    assert [subject for subject, _ in report.failures] == ["cust-14"]
    assert "name" in report.failures[0][1]
    assert erp.updates and gateway.updates  # the other pair was still synced
