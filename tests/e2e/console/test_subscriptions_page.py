"""The console's Subscriptions pages in a real browser against the running service and both
sandboxes: the list with status, amount and next charge (filtered by status), a billed
subscription's periods with their D365 invoice and PayTrace transaction, and an operator's
pause, resume and cancel, audited as ``console:<user>``; a viewer's buttons are disabled."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from payledger.adapters.paytrace import PayTraceClient
from payledger.bootstrap import build
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS, bill_subscriptions_job
from payledger.config import load_settings
from payledger.domain.subscriptions import Subscription
from payledger.domain.subscriptions_periods import BillingSchedule, Interval
from payledger.engine.jobs import Job
from payledger.stores.subscriptions import SqlSubscriptions
from tests.e2e.console.conftest import Stack, in_own_loop
from tests.e2e.console.test_console import sign_in
from tests.integration.payments.conftest import encrypted_card
from tests.unit.domain.subscription_builders import plan


async def seed(stack: Stack) -> tuple[int, int]:
    """A subscription billed once (charged at PayTrace, invoiced in D365) and one in the
    future; their ids."""
    async with PayTraceClient(stack.paytrace, "demo123", "demo123", "test") as paytrace:
        assert (await paytrace.create_customer("console-sub", card=encrypted_card())).success
    container = build(load_settings(stack.config))
    try:
        zone = container.settings.subscriptions.timezone
        today = datetime.now(ZoneInfo(zone)).date()
        store = SqlSubscriptions(container.database, container.clock)
        ids = []
        for amount, anchor in (("49.90", today), ("19.00", today.replace(year=today.year + 1))):
            stored = await store.add(
                Subscription(
                    customer_account="US-003",
                    vault_customer_id="console-sub",
                    plan=plan(amount, "Maintenance contract"),
                    schedule=BillingSchedule(anchor, Interval(), zone),
                ),
                actor="api:shop",
            )
            ids.append(stored.id)
        job = Job(1, BILL_SUBSCRIPTIONS, {}, attempts=1, max_attempts=8)
        await bill_subscriptions_job(container)(job)
    finally:
        await container.aclose()
    return ids[0], ids[1]


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> tuple[int, int]:
    return in_own_loop(seed(stack))


def test_the_list_shows_status_amount_and_next_charge_and_filters_by_status(
    page, stack: Stack, seeded
):
    _, future = seeded
    sign_in(page, stack, stack.operator_token)
    page.click("nav >> text=Subscriptions")
    page.wait_for_selector("#subscriptions")
    row = page.locator(f"#subscriptions tr[data-subscription='{future}']")
    cells = row.locator("td").all_inner_texts()
    assert cells[:5] == [str(future), "US-003", "Maintenance contract", "19.00 USD", "active"]
    assert cells[5].endswith("UTC")  # its next charge, a year ahead
    page.select_option("select[name=status]", "paused")
    page.click("#filter button")
    page.wait_for_selector("#no-subscriptions")
    assert "status paused" in page.inner_text("#no-subscriptions")


def test_the_detail_shows_the_billed_period_and_an_operator_pauses_resumes_and_cancels(
    page, stack: Stack, seeded
):
    billed, _ = seeded
    [(invoice, txn)] = stack.rows(
        "SELECT invoice_number, gateway_txn_id FROM subscription_periods "
        "WHERE subscription_id = ? AND status = 'charged'",
        billed,
    )
    sign_in(page, stack, stack.operator_token)
    page.goto(f"{stack.url}/subscriptions/{billed}")
    period = page.locator("#periods tr[data-period='0-0']").locator("td").all_inner_texts()
    assert [period[3], period[4], period[5], period[6]] == ["49.90 USD", "charged", invoice, txn]
    assert invoice and txn

    for button, status in (("Pause", "paused"), ("Resume", "active")):
        page.click(f"#actions button:text-is('{button}')")
        page.wait_for_selector("#done")
        assert page.get_attribute("#status", "data-status") == status
    page.click("#actions button:text-is('Cancel now')")
    page.wait_for_selector("#done")
    assert page.get_attribute("#status", "data-status") == "cancelled"
    assert page.inner_text("#next-charge") == "—"
    for button in page.locator("#actions button").all():
        assert button.is_disabled()  # nothing is left to change
    trail = page.locator("#audit tbody tr").all_inner_texts()
    assert [" ".join(line.split()[-2:]) for line in trail] == [
        "api:shop subscription.created",
        "console:ops subscription.paused",
        "console:ops subscription.resumed",
        "console:ops subscription.cancelled",
    ]


def test_a_viewer_sees_a_subscription_but_every_action_is_disabled(page, stack: Stack, seeded):
    _, future = seeded
    sign_in(page, stack, stack.viewer_token)
    page.goto(f"{stack.url}/subscriptions/{future}")
    assert "viewer" in page.inner_text("#viewer-note")
    buttons = page.locator("#actions button").all()
    assert buttons and all(button.is_disabled() for button in buttons)


def test_a_change_from_another_site_or_a_stale_page_is_refused(page, stack: Stack, seeded):
    _, future = seeded
    sign_in(page, stack, stack.operator_token)
    page.goto(f"{stack.url}/subscriptions/{future}")
    csrf = page.get_attribute("#actions input[name=csrf]", "value")
    forged = page.request.post(
        f"{stack.url}/subscriptions/{future}/pause",
        form={"csrf": "forged", "version": "1"},
        headers={"Origin": "https://evil.example"},
        max_redirects=0,
    )
    assert forged.status == 403
    stale = page.request.post(
        f"{stack.url}/subscriptions/{future}/pause",
        form={"csrf": csrf or "", "version": "99"},
        max_redirects=0,
    )
    assert stale.status == 409
    assert stack.scalar("SELECT status FROM subscriptions WHERE id = ?", future) == "active"
