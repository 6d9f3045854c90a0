"""The console's Dunning pages in a real browser against the running service and both
sandboxes: the cases with amounts at risk and the recovery rate by week, a case's timeline,
and an operator's retry now, stop and mark paid elsewhere, audited as ``console:<user>`` (a
retry that finds nothing open closes the case and takes back D365's collections status); a
viewer's buttons are disabled, and a forged or stale post changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from payledger.bootstrap import build
from payledger.bootstrap.dunning import collections_erp, dunning_policy
from payledger.config import load_settings
from payledger.domain.dunning import (
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    CollectionsStage,
    DeclineClass,
    MissedCharge,
    open_case,
)
from payledger.domain.money import Money
from payledger.stores.dunning import SqlDunning
from tests.e2e.console.conftest import Stack, d365_tls, in_own_loop
from tests.e2e.console.test_console import sign_in

CASES = (  # invoice, customer, amount, currency, decline class, decline text
    ("INV-D1", "US-003", "30.00", "USD", DeclineClass.SOFT, "NSF - Insufficient funds"),
    ("INV-D2", "US-003", "12.50", "EUR", DeclineClass.HARD, "DECLINE - Expired card"),
    ("INV-D3", "US-001", "20.00", "USD", DeclineClass.SOFT, "DECLINE - Do not honor"),
    ("INV-D4", "US-002", "7.00", "USD", DeclineClass.SOFT, "DECLINE - Do not honor"),
)


async def seed(stack: Stack) -> dict[str, int]:
    """The four cases, as a declined charge opens them; INV-D1's customer marked past due in
    D365, INV-D3 recovered. Their ids by invoice."""
    container = build(load_settings(stack.config))
    try:
        store = SqlDunning(container.database, container.clock)
        schedule = dunning_policy(container.settings).schedule
        now = datetime.now(UTC)
        ids = {}
        for invoice, customer, amount, currency, cls, text in CASES:
            missed = MissedCharge(
                CaseSource.AUTO_PAY, f"auto-pay:{invoice}:1", invoice, customer, "no-card",
                Money.of(amount, currency), now, AttemptOutcome.DECLINED, text, "1",
            )  # fmt: skip
            case, _ = await store.open(open_case(missed, cls, schedule), actor="payledger:dunning")
            ids[invoice] = case.id
        first = await store.get(ids["INV-D1"])
        assert first is not None
        await (await collections_erp(container)).advance(first, CollectionsStage.PAST_DUE)
        third = await store.get(ids["INV-D3"])
        assert third is not None
        recovered = replace(third, status=CaseStatus.RECOVERED, next_attempt_at=None)
        await store.change(recovered, actor="payledger:dunning", action="test", detail={})
    finally:
        await container.aclose()
    return ids


@pytest.fixture(scope="module")
def cases(stack: Stack) -> dict[str, int]:
    return in_own_loop(seed(stack))


def collection_status(stack: Stack, account: str) -> str:
    answer = httpx.get(
        f"{stack.d365}/_sandbox/state/CustomersV3",
        params={"company": "usmf"},
        verify=d365_tls(stack),
    )
    [row] = [r for r in answer.json()["value"] if r["CustomerAccount"] == account]
    return str(row["PayTraceCollectionStatus"])


def test_the_page_lists_cases_amounts_at_risk_and_the_recovery_rate(page, stack, cases):
    sign_in(page, stack, stack.operator_token)
    page.click("nav >> text=Dunning")
    page.wait_for_selector("#cases")
    row = page.locator(f"#cases tr[data-case='{cases['INV-D2']}']").locator("td")
    assert row.all_inner_texts()[:7] == [
        str(cases["INV-D2"]), "open", "US-003", "INV-D2", "12.50 EUR", "—", "0",
    ]  # fmt: skip
    scheduled = page.locator(f"#cases tr[data-case='{cases['INV-D1']}'] td").all_inner_texts()
    assert scheduled[1] == "retry_scheduled" and scheduled[5].endswith("UTC")
    assert page.locator("#at-risk li").all_inner_texts() == ["12.50 EUR", "37.00 USD"]
    [week] = page.locator("#recovery tbody tr").all()
    assert week.locator("td").all_inner_texts()[1:] == ["1", "1", "100 %"]

    page.select_option("select[name=status]", "recovered")
    page.click("#filter button")
    page.wait_for_selector("#cases")
    assert page.locator("#cases tbody tr").count() == 1


def test_an_operator_retries_stops_and_marks_paid_elsewhere(page, stack, cases):
    assert collection_status(stack, "US-003") == "PastDue"
    sign_in(page, stack, stack.operator_token)

    page.goto(f"{stack.url}/dunning/{cases['INV-D1']}")
    attempt = page.locator("#attempts tr[data-attempt='0'] td").all_inner_texts()
    assert attempt[2:5] == ["declined", "soft", "NSF - Insufficient funds"]
    page.click("#actions button:text-is('Retry now')")
    page.wait_for_selector("#done")
    # D365 has no invoice INV-D1 open: the retry finds nothing to charge and closes the case
    assert page.get_attribute("#status", "data-status") == "paid_elsewhere"
    assert page.locator("#attempts tr[data-attempt='1'] td").all_inner_texts()[2] == (
        "nothing_open"
    )
    assert collection_status(stack, "US-003") == ""  # D365's collections taken back

    page.goto(f"{stack.url}/dunning/{cases['INV-D2']}")
    stop = page.locator("#actions form", has=page.locator("button:text-is('Stop')"))
    stop.locator("input[name=reason]").fill("disputed by phone")
    stop.locator("button").click()
    page.wait_for_selector("#done")
    assert page.get_attribute("#status", "data-status") == "stopped"
    assert all(button.is_disabled() for button in page.locator("#actions button").all())

    page.goto(f"{stack.url}/dunning/{cases['INV-D4']}")
    page.click("#actions button:text-is('Mark paid elsewhere')")
    page.wait_for_selector("#done")
    assert page.get_attribute("#status", "data-status") == "paid_elsewhere"
    trail = [row.locator("td").all_inner_texts() for row in page.locator("#audit tbody tr").all()]
    assert [cells[1:3] for cells in trail] == [
        ["payledger:dunning", "dunning.opened"],
        ["console:ops", "dunning.paid_elsewhere"],
    ]
    assert "reason: marked paid elsewhere in the console" in trail[1][3]
    assert stack.rows(
        "SELECT actor, action FROM audit_log WHERE subject = ? ORDER BY id",
        f"dunning_case:{cases['INV-D2']}",
    ) == [("payledger:dunning", "dunning.opened"), ("console:ops", "dunning.stopped")]


def test_a_viewer_sees_a_case_but_every_action_is_disabled(page, stack, cases):
    sign_in(page, stack, stack.viewer_token)
    page.goto(f"{stack.url}/dunning/{cases['INV-D3']}")
    assert "viewer" in page.inner_text("#viewer-note")
    buttons = page.locator("#actions button").all()
    assert buttons and all(button.is_disabled() for button in buttons)


def test_a_forged_or_stale_post_and_an_unknown_case_change_nothing(page, stack, cases):
    sign_in(page, stack, stack.operator_token)
    case = cases["INV-D3"]
    page.goto(f"{stack.url}/dunning/{case}")
    csrf = page.get_attribute("#actions input[name=csrf]", "value") or ""
    forged = page.request.post(
        f"{stack.url}/dunning/{case}/stop",
        form={"csrf": "forged", "version": "2"},
        headers={"Origin": "https://evil.example"},
        max_redirects=0,
    )
    assert forged.status == 403
    stale = page.request.post(
        f"{stack.url}/dunning/{case}/stop", form={"csrf": csrf, "version": "1"}, max_redirects=0
    )
    assert stale.status == 409
    closed = page.request.post(
        f"{stack.url}/dunning/{case}/stop", form={"csrf": csrf, "version": "2"}, max_redirects=0
    )
    assert closed.status == 409 and "already recovered" in closed.text()
    assert stack.scalar("SELECT status FROM dunning_cases WHERE id = ?", case) == "recovered"
    missing = page.request.get(f"{stack.url}/dunning/999")
    assert missing.status == 404 and "no dunning case &#39;999&#39;" in missing.text()
