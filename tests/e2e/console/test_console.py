"""The operator console as a person uses it, in a real browser against the real service."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import httpx

from payledger.bench.postgres import free_port
from tests.e2e.console.conftest import (
    HTML_NAME,
    MISSING_CUSTOMER,
    VISA,
    Stack,
    d365_tls,
    d365_token,
    in_own_loop,
    reconcile_today,
    wait_until,
)


def sign_in(page, stack: Stack, token: str) -> None:
    page.goto(f"{stack.url}/")
    assert re.search(r"/console/login\?next=", page.url)  # no session: sent to sign in
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.url}/")


def metric(page, name: str) -> str:
    return page.inner_text(f"[data-metric='{name}']").strip()


def session_cookies(page) -> list[dict]:
    return [c for c in page.context.cookies() if c["name"] == "payledger_console"]


def test_a_bad_token_is_refused_with_an_error_and_no_session(page, stack):
    page.goto(f"{stack.url}/login")
    page.fill("#token", "plt_not-a-real-token")
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if "/login" in r.url else None)
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error")
    assert "Sign-in refused" in page.inner_text("#login-error")
    assert 401 in response_status
    assert page.url.startswith(f"{stack.url}/login")
    assert session_cookies(page) == []
    page.goto(f"{stack.url}/dead-letters")
    assert "/console/login" in page.url  # still locked out


def test_the_session_cookie_is_secure_httponly_and_strict(page, stack):
    sign_in(page, stack, stack.viewer_token)
    [cookie] = session_cookies(page)
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert stack.viewer_token not in cookie["value"]


def test_the_dashboard_shows_what_the_database_holds(page, stack):
    sign_in(page, stack, stack.operator_token)
    inbox = dict(stack.rows("SELECT status, count(*) FROM inbox GROUP BY status"))
    postings = dict(stack.rows("SELECT state, count(*) FROM postings GROUP BY state"))
    dead_jobs = stack.scalar("SELECT count(*) FROM jobs WHERE status = 'dead'")
    assert inbox["processed"] >= 3 and postings["posted"] >= 2  # the seeded sales
    assert metric(page, "inbox.total") == str(sum(inbox.values()))
    assert metric(page, "inbox.processed") == str(inbox["processed"])
    assert metric(page, "postings.posted") == str(postings["posted"])
    assert metric(page, "postings.dead") == str(postings.get("dead", 0))
    assert metric(page, "dead.postings") == str(postings.get("dead", 0))
    assert metric(page, "dead.jobs") == str(dead_jobs)
    assert metric(page, "dead.total") == str(postings.get("dead", 0) + dead_jobs)
    assert metric(page, "oldest.age") == "none waiting"
    for system in ("PayTrace", "D365", "database"):
        assert page.inner_text(f"tr[data-system='{system}'] [data-state]") == "ok"


def test_a_payment_timeline_shows_events_postings_d365_keys_and_no_card_number(page, stack):
    sign_in(page, stack, stack.viewer_token)
    page.click("nav >> text=Payments")
    page.fill("#q", stack.posted_txn)
    page.click("form.search button")
    rows = page.locator("#payments tbody tr")
    assert rows.count() == 1
    rows.first.locator("a").click()
    page.wait_for_url(f"{stack.url}/payments/{stack.posted_txn}")

    [(reference, batch, line)] = stack.rows(
        "SELECT reference, journal_batch_number, line_number FROM postings "
        "WHERE gateway_txn_id = ?",
        stack.posted_txn,
    )
    posting = page.locator("#postings tbody tr").first.inner_text()
    assert reference in posting and "posted" in posting
    assert batch in posting and str(line) in posting
    story = page.inner_text("#timeline")
    assert "sale approved received from paytrace" in story
    assert f"posting {reference} (payment) posted" in story
    events = stack.scalar(
        "SELECT count(*) FROM inbox WHERE external_id LIKE ?", f"%:{stack.posted_txn}:%"
    )
    assert page.locator("#events tbody tr").count() == events
    assert "done" in page.inner_text("#jobs")

    body = page.content()
    assert VISA not in body and VISA[-4:] in page.inner_text("dl.facts")  # masked card only
    assert HTML_NAME in page.inner_text("dl.facts")  # shown as text, not markup
    assert page.locator("dl.facts b").count() == 0


def test_an_operator_replays_a_dead_posting_once_the_data_is_fixed(page, stack):
    sign_in(page, stack, stack.operator_token)
    page.click("nav >> text=Dead letters")
    reference = f"PT-{stack.dead_txn}-PAY"
    row = page.locator(f"#dead-postings tr[data-reference='{reference}']")
    assert MISSING_CUSTOMER in row.inner_text()

    created = httpx.post(
        f"{stack.d365}/data/CustomersV3",
        verify=d365_tls(stack),
        headers={"Authorization": f"Bearer {d365_token(stack)}"},
        json={
            "dataAreaId": "usmf",
            "CustomerAccount": MISSING_CUSTOMER,
            "OrganizationName": "Late Customer",
            "CustomerGroupId": "30",
            "SalesCurrencyCode": "USD",
        },
    )
    assert created.status_code == 201, created.text
    row.locator("button", has_text="Replay").click()
    page.wait_for_selector("#done")
    assert page.inner_text("#done") == f"replayed posting {reference}"
    assert page.locator(f"tr[data-reference='{reference}']").count() == 0

    wait_until(
        lambda: (
            stack.rows("SELECT state FROM postings WHERE reference = ?", reference) == [("posted",)]
        ),
        "the replayed posting reached D365",
    )
    page.goto(f"{stack.url}/payments/{stack.dead_txn}")
    assert "posting.replay by console:ops" in page.inner_text("#timeline")
    assert "posted" in page.locator("#postings tbody tr").first.inner_text()
    page.goto(f"{stack.url}/")
    assert metric(page, "postings.dead") == "0"


def test_a_viewer_cannot_replay_and_forms_without_the_session_token_are_refused(page, stack):
    sign_in(page, stack, stack.viewer_token)
    page.goto(f"{stack.url}/dead-letters")
    assert "signed in as a viewer" in page.inner_text("#viewer-note")
    for button in page.locator("#dead-postings button, #dead-jobs button").all():
        assert button.is_disabled()

    forged = page.request.post(f"{stack.url}/dead-letters/replay", form={"job_id": "1"})
    assert forged.status == 403 and "Form expired" in forged.text()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    as_viewer = page.request.post(
        f"{stack.url}/dead-letters/replay", form={"job_id": "1", "csrf": csrf}
    )
    assert as_viewer.status == 403 and "Operator access needed" in as_viewer.text()


def test_mapping_preview_of_a_stored_event_reproduces_what_was_posted(page, stack):
    sign_in(page, stack, stack.viewer_token)
    [(inbox_id, sent)] = stack.rows(
        "SELECT inbox_id, payload FROM postings WHERE gateway_txn_id = ?", stack.posted_txn
    )
    page.goto(f"{stack.url}/payments/{stack.posted_txn}")
    page.click("#events >> text=preview mapping")
    page.wait_for_url(f"{stack.url}/mapping?event={inbox_id}")
    assert stack.posted_txn in page.input_value("#sample")
    page.select_option("#template", "d365_payment_journal_line")
    page.click("form.stack button")
    page.wait_for_selector("#lineage")
    lineage = page.locator("#lineage tbody tr", has_text="CreditAmount").inner_text()
    assert "mapped" in lineage and "payment.amount" in lineage and "42.00" in lineage
    shown = json.loads(page.inner_text("#payload"), parse_float=Decimal)
    assert shown == json.loads(sent, parse_float=Decimal)
    assert page.locator("#preview-errors").count() == 0


def test_signing_out_ends_the_session(page, stack):
    sign_in(page, stack, stack.viewer_token)
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/console/login$"))
    page.goto(f"{stack.url}/payments")
    assert "/console/login" in page.url


def test_after_signing_out_a_kept_copy_of_the_cookie_opens_nothing(page, stack):
    sign_in(page, stack, stack.operator_token)
    [kept] = session_cookies(page)
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/console/login$"))
    assert session_cookies(page) == []
    page.context.add_cookies([kept])  # as someone who copied it would
    page.goto(f"{stack.url}/dead-letters")
    assert "/console/login" in page.url
    replay = page.request.post(f"{stack.url}/dead-letters/replay", form={"job_id": "1"})
    assert "/console/login" in replay.url  # sent to sign in, nothing replayed
    ended = stack.rows("SELECT ended_at IS NOT NULL FROM console_sessions WHERE user_name = 'ops'")
    assert (1,) in ended


def test_a_form_on_another_site_cannot_post_to_the_console(page, stack):
    sign_in(page, stack, stack.operator_token)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    # Another port of the same host is the same site: the Strict cookie goes along, and even
    # the form token is right; only the browser's Origin and Sec-Fetch-Site tell it apart.
    elsewhere = f"http://127.0.0.1:{free_port()}/offer"
    page.route(
        elsewhere,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form method="post" action="{stack.url}/logout">'
            f'<input type="hidden" name="csrf" value="{csrf}"><button>Win</button></form>',
        ),
    )
    page.goto(elsewhere)
    with page.expect_response(f"{stack.url}/logout") as answer:
        page.click("text=Win")
    assert answer.value.status == 403
    assert page.inner_text("h1") == "Request from another site refused"
    assert "'same-site' page" in page.inner_text("#problem")
    page.goto(f"{stack.url}/")
    assert page.url == f"{stack.url}/"  # still signed in


def test_a_reconciliation_run_reads_in_the_console_as_it_was_stored(page, stack):
    assert httpx.post(f"{stack.paytrace}/_sandbox/settle").status_code == 200
    run_id = in_own_loop(reconcile_today(stack))
    report = json.loads(stack.scalar("SELECT report FROM recon_runs WHERE id = ?", run_id))
    assert sum(report["counts"].values()) == 3  # the three settled sales, one item each

    sign_in(page, stack, stack.viewer_token)
    page.click("nav >> text=Reconciliation")
    row = page.locator(f"#runs tr[data-run='{run_id}']")
    assert row.locator("[data-exceptions]").inner_text() == str(report["exceptions"])
    row.locator("a").click()
    page.wait_for_url(f"{stack.url}/reconciliation/{run_id}")
    for kind, count in report["counts"].items():
        cell = page.locator(f"#by-class tr[data-class='{kind}'] [data-count]")
        assert (cell.inner_text() if count else cell.count()) == (str(count) if count else 0)
    listed = page.locator("#items tbody tr")
    assert listed.count() == len(report["items"])
    download = page.request.get(f"{stack.url}/reconciliation/{run_id}/report.csv")
    assert download.ok and download.text().startswith("class,exception,reference")
