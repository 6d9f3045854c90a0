"""The console's Journals page in a real browser: journals with their state, and in the
``after_review`` mode an operator's "Approve and post" recorded with who approved."""

from __future__ import annotations

import httpx

from tests.e2e.console.conftest import Stack, wait_until
from tests.e2e.console.test_console import sign_in

POST_MODE = "after_review"


def journal_row(page, batch: str):
    return page.locator(f"#journals tr[data-journal='{batch}']")


def test_the_journals_page_lists_the_journal_and_an_operator_approves_it(page, stack: Stack):
    [(batch, lines)] = stack.rows(
        "SELECT journal_batch_number, count(*) FROM postings WHERE state = 'posted' "
        "GROUP BY journal_batch_number"
    )
    sign_in(page, stack, stack.operator_token)
    page.click("nav >> text=Journals")
    page.wait_for_selector("#journals")
    row = journal_row(page, batch)
    cells = row.locator("td").all_inner_texts()
    assert cells[:5] == [batch, cells[1], "USD", str(lines), "59.25"]  # 42.00 + 17.25
    assert row.locator("[data-state]").get_attribute("data-state") == "unposted"

    row.locator("button", has_text="Approve and post").click()
    page.wait_for_selector("#done")
    assert f"journal {batch} approved" in page.inner_text("#done")
    assert stack.scalar("SELECT approved_by FROM journals WHERE batch_number = ?", batch) == (
        "console:ops"
    )
    wait_until(
        lambda: (
            stack.scalar("SELECT post_state FROM journals WHERE batch_number = ?", batch)
            == "posted"
        ),
        "the worker's journal.post job to post it in D365",
    )
    page.reload()
    row = journal_row(page, batch)
    assert row.locator("td").nth(7).inner_text() == "console:ops"
    assert row.locator("[data-state]").get_attribute("data-state") == "posted"
    assert row.locator("button").count() == 0  # posted once, nothing left to approve
    assert batch in posted_in_d365(stack)


def posted_in_d365(stack: Stack) -> list[str]:
    """The journals the D365 sandbox has posted (its control API)."""
    state = httpx.get(f"{stack.d365}/_sandbox/state", verify=False, timeout=10).json()
    return [journal["batch"] for journal in state["posted_journals"]]


def test_a_viewer_sees_the_journals_but_cannot_approve(page, stack: Stack):
    sign_in(page, stack, stack.viewer_token)
    page.goto(f"{stack.url}/journals")
    page.wait_for_selector("#journals")
    assert "viewer" in page.inner_text("#viewer-note")
    for button in page.locator("#journals button").all():
        assert button.is_disabled()


def test_an_approval_from_another_site_is_refused(page, stack: Stack):
    sign_in(page, stack, stack.operator_token)
    page.goto(f"{stack.url}/journals")
    response = page.request.post(
        f"{stack.url}/journals/approve",
        form={"csrf": "forged", "batch_number": "anything"},
        headers={"Origin": "https://evil.example"},
        max_redirects=0,
    )
    assert response.status == 403
