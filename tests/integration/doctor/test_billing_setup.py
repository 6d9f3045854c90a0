"""``payledger doctor`` checks what recurring billing needs in D365 when it is enabled."""

from __future__ import annotations

from pathlib import Path

from tests.integration.doctor.conftest import SECRETS, Sandboxes, configured, diagnosed


async def test_nothing_about_billing_is_checked_while_it_is_disabled(
    sandboxes: Sandboxes, tmp_path: Path
):
    absent = {"entity_sets": {"free_text_invoice_headers": "NoSuchInvoices"}}
    findings = await diagnosed(configured(sandboxes, tmp_path, d365=absent), SECRETS)

    assert findings["entity sets"].status == "ok"
    assert not [name for name in findings if "subscriptions" in name or "invoice" in name]


async def test_the_invoice_sets_fields_and_operation_are_found(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(sandboxes, tmp_path, subscriptions={"enabled": True})

    findings = await diagnosed(settings, SECRETS)

    assert findings["entity sets"].status == "ok"
    key = findings["subscriptions invoice_key_field"]
    assert (key.status, key.detail) == ("ok", "FreeTextInvoiceHeaders.CustomerReference exists")
    status = findings["subscriptions status_field"]
    assert status.detail == "CustomersV3.PayTraceSubscriptionStatus exists"
    operation = findings["invoice posting service"]
    assert operation.status == "ok", operation
    assert "PayledgerJournalService/postFreeTextInvoice answers" in operation.detail
    assert "posting service" not in findings  # [posting] post = "never"


async def test_what_the_environment_lacks_fails_with_the_key_to_fix(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(
        sandboxes,
        tmp_path,
        d365={"entity_sets": {"free_text_invoice_lines": "NoSuchLines"}},
        subscriptions={
            "enabled": True,
            "status_field": "SubStatus",
            "invoice_operation": "postInvoice",
        },
    )

    findings = await diagnosed(settings, SECRETS)

    assert "free_text_invoice_lines = NoSuchLines" in findings["entity sets"].detail
    status = findings["subscriptions status_field"]
    assert (status.status, status.detail) == ("FAIL", "CustomersV3 has no property SubStatus")
    assert "[subscriptions] status_field" in status.hint
    operation = findings["invoice posting service"]
    assert operation.status == "FAIL"
    assert "postInvoice: not found (HTTP 404)" in operation.detail
    assert "[subscriptions] invoice_operation" in operation.hint


async def test_an_empty_status_field_is_not_checked(sandboxes: Sandboxes, tmp_path: Path):
    settings = configured(sandboxes, tmp_path, subscriptions={"enabled": True, "status_field": ""})
    status = (await diagnosed(settings, SECRETS))["subscriptions status_field"]
    assert status.status != "FAIL" and "no status is mirrored" in status.detail
