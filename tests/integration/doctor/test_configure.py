"""The configure-and-map phase: the D365 setup and the PayTrace titles hold what is configured."""

from __future__ import annotations

from pathlib import Path

from payledger import doctor
from payledger.bootstrap import Container
from payledger.config import Settings
from payledger.doctor.configure import verify_discretionary_titles
from tests.integration.doctor.conftest import SECRETS, Sandboxes, by_name, configured, diagnosed


async def test_a_misconfigured_extension_field_fails_naming_it(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(
        sandboxes, tmp_path, d365={"fields": {"customer_paytrace_id": "PayTraceCustomerNo"}}
    )
    findings = await diagnosed(settings, SECRETS)

    field = findings["extension field customer_paytrace_id"]
    assert field.status == "FAIL"
    assert field.detail == "CustomersV3 has no property PayTraceCustomerNo"
    assert "[d365.fields] customer_paytrace_id" in field.hint
    mapping = findings["mapping templates"]
    assert mapping.status == "FAIL" and "PayTraceCustomerNo" in mapping.detail
    assert "payledger mapping check" in mapping.hint


async def test_a_company_without_setup_and_an_unknown_method_of_payment_fail(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(sandboxes, tmp_path, d365={"company": "DEMF", "payment_method": "PIX"})
    findings = await diagnosed(settings, SECRETS)

    assert findings["company"].status == "FAIL"
    assert "'demf' not found" in findings["company"].detail
    assert "dataAreaId" in findings["company"].hint
    method = findings["method of payment"]
    assert method.status == "FAIL" and "'PIX' not found in CustomerPaymentMethods" in method.detail
    assert "Methods of payment" in method.hint


async def test_the_payment_journal_name_is_found_through_the_methods_of_payment(ready: Container):
    journal = by_name(await doctor.run(ready))["payment journal name"]

    assert journal.status == "ok"
    assert "CustomerPaymentMethods.PaymentJournalName" in journal.detail


async def test_setup_is_read_from_the_configured_entity_sets(sandboxes: Sandboxes, tmp_path: Path):
    # An environment whose methods of payment sit under another name than the sandbox's.
    settings = configured(
        sandboxes, tmp_path, d365={"setup_entity_sets": {"payment_methods": "PaymentMethodsV9"}}
    )
    findings = await diagnosed(settings, SECRETS)

    method = findings["method of payment"]
    assert method.status == "FAIL"
    assert method.detail == "'ELECTRONIC' not found: no PaymentMethodsV9 entity here"
    assert findings["entity sets"].status == "ok"  # setup sets are read, never required


def test_discretionary_titles_must_hold_the_order_and_customer_titles():
    too_many = Settings(paytrace={"discretionary_titles": [f"T{i}" for i in range(7)]})
    finding = verify_discretionary_titles(too_many)

    assert finding.status == "FAIL"
    assert "at most 6" in finding.detail
    assert "order_title 'D365 Order' is not one of discretionary_titles" in finding.detail
    assert "customer_title 'D365 Customer'" in finding.detail
    assert verify_discretionary_titles(Settings()).status == "ok"
