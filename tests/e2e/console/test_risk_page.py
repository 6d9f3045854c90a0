"""The console's Risk review page in a real browser against the running service: held items
with their score and reasons, an operator's approve (what is held is released once) and
reject with a comment, audited as ``console:<user>`` and shown on the payment's timeline; a
viewer cannot decide, a forged post changes nothing, and a second decision is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payledger.bootstrap import build
from payledger.bootstrap.risk import review_queue, risk_store
from payledger.config import load_settings
from payledger.domain.money import Money
from payledger.domain.risk import Action, Assessment, Reason, RiskSubject, SubjectKind
from payledger.flows.ports.risk import HeldKind
from payledger.stores.risk_reviews import Release
from tests.e2e.console.conftest import Stack, in_own_loop
from tests.e2e.console.test_console import sign_in

HELD = {  # transaction -> amount, score, reason
    "RISK-1": ("950.00", 0.94, Reason("amount_outlier", "19x the customer's mean", 0.7)),
    "RISK-2": ("1.00", 0.88, Reason("card_testing", "14 declines in 60 s", 0.8)),
}


async def seed(stack: Stack) -> dict[str, int]:
    """Both payments scored and held; each approval would release a harmless job."""
    container = build(load_settings(stack.config))
    try:
        store, queue = risk_store(container), review_queue(container)
        now = datetime.now(UTC)
        for txn, (amount, score, reason) in HELD.items():
            subject = RiskSubject(txn, SubjectKind.SALE, Money.of(amount), now, "C-RISK")
            assessment = Assessment(score, Action.REVIEW, (reason,), "m-7")
            await store.record(subject, assessment, now)
            release = Release("alerts.dispatch", {}, f"risk-release:e2e:{txn}")
            await queue.hold(HeldKind.POSTING, txn, subject, assessment, release, open_review=True)
        return {item.ref: item.id for item in await queue.items()}
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def held(stack: Stack) -> dict[str, int]:
    return in_own_loop(seed(stack))


def test_the_page_lists_held_items_with_score_and_reasons(page, stack, held):
    sign_in(page, stack, stack.operator_token)
    page.click("nav >> text=Risk review")
    page.wait_for_selector("#pending")
    cells = page.locator(f"#pending tr[data-item='{held['RISK-1']}'] td").all_inner_texts()
    assert cells[1:6] == ["posting", "RISK-1", "950.00 USD", "C-RISK", "0.94"]
    assert cells[6] == "amount_outlier: 19x the customer's mean"
    page.goto(f"{stack.url}/payments/RISK-2")
    assert page.inner_text("#risk tr[data-kind='sale'] .score") == "0.88"
    assert page.inner_text("#risk li[data-code='card_testing']") == (
        "card_testing: 14 declines in 60 s"
    )


def test_a_viewer_sees_the_queue_but_cannot_decide(page, stack, held):
    sign_in(page, stack, stack.viewer_token)
    page.goto(f"{stack.url}/risk")
    row = page.locator(f"#pending tr[data-item='{held['RISK-1']}']")
    assert row.locator("button").count() == 0
    assert "operators decide" in row.inner_text()


def test_an_operator_approves_once_and_rejects_with_a_comment(page, stack, held):
    sign_in(page, stack, stack.operator_token)
    page.goto(f"{stack.url}/risk")
    row = page.locator(f"#pending tr[data-item='{held['RISK-1']}']")
    row.locator("input[name=comment]").fill("called the customer")
    row.locator("button.approve").click()
    page.wait_for_selector("#done")
    assert "approved" in page.inner_text("#done")
    assert page.locator(f"#pending tr[data-item='{held['RISK-1']}']").count() == 0
    decided = page.locator(f"#decided tr[data-item='{held['RISK-1']}'] td").all_inner_texts()
    assert decided[5:7] == ["approved", "console:ops"] and decided[8] == "called the customer"
    assert stack.rows("SELECT kind FROM jobs WHERE dedupe_key = ?", "risk-release:e2e:RISK-1") == [
        ("alerts.dispatch",)
    ]

    row = page.locator(f"#pending tr[data-item='{held['RISK-2']}']")
    row.locator("input[name=comment]").fill("card testing, refunded nothing")
    row.locator("button.reject").click()
    page.wait_for_selector("#done")
    assert "rejected" in page.inner_text("#done")
    assert stack.rows("SELECT 1 FROM jobs WHERE dedupe_key = ?", "risk-release:e2e:RISK-2") == []
    assert stack.rows(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'risk.%' ORDER BY id"
    ) == [("console:ops", "risk.approve"), ("console:ops", "risk.reject")]
    page.goto(f"{stack.url}/payments/RISK-2")
    assert "risk.reject by console:ops" in page.inner_text("#timeline")


def test_a_forged_post_or_a_second_decision_changes_nothing(page, stack, held):
    sign_in(page, stack, stack.operator_token)
    page.goto(f"{stack.url}/risk")
    csrf = page.get_attribute("form.whoami input[name=csrf]", "value") or ""
    item = held["RISK-1"]
    forged = page.request.post(
        f"{stack.url}/risk/{item}/reject", form={"csrf": "forged"}, max_redirects=0
    )
    assert forged.status == 403
    again = page.request.post(f"{stack.url}/risk/{item}/reject", form={"csrf": csrf})
    assert again.ok and "already approved by console:ops" in again.text()
    assert stack.scalar("SELECT state FROM risk_reviews WHERE id = ?", item) == "approved"
    missing = page.request.get(f"{stack.url}/risk/999/approve")
    assert missing.status in (404, 405)
    unknown = page.request.post(f"{stack.url}/risk/999/approve", form={"csrf": csrf})
    assert unknown.status == 404 and "no review item" in unknown.text()
