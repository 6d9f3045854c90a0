"""The console's sessions, guards and queries, in-process on SQLite and PostgreSQL (the browser
tests in tests/e2e/console drive the same pages through chromium)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import audit_log, jobs
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.events import PaymentObserved
from payledger.engine.jobs import NewJob
from payledger.stores.api_clients import ApiClients
from payledger.stores.payment_events import SqlPaymentEventStore
from payledger.stores.reconciliation import SqlReconStore
from payledger.web.app import create_app
from tests.integration.web.test_reconciliation_api import stored_run

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)


async def issue(container, *scopes: str, name: str = "ops"):
    async with container.database.transaction() as conn:
        return await ApiClients(container.clock).issue(conn, name, scopes, actor="test")


async def sign_in(browser, token: str, next_path: str = "") -> httpx.Response:
    form = await browser.get("/console/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text).group(1)
    return await browser.post(
        "/console/login", data={"token": token, "nonce": nonce, "next": next_path}
    )


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


async def observe(container, *payments: Payment) -> None:
    events = [PaymentObserved(f"paytrace:{p.gateway_txn_id}:{p.kind}", p) for p in payments]
    await SqlPaymentEventStore(container.inbox).record("paytrace", events, watermark=("test", WHEN))


def sale(txn: str, message: str = "Approved.") -> Payment:
    return Payment(
        txn, PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("12.50"), WHEN, message=message
    )


async def test_pages_need_a_session_and_a_token_with_a_console_scope(browser, container):
    shop = await issue(container, "payments:write", name="shop")
    assert (await browser.get("/console/payments")).headers["location"] == (
        "/console/login?next=%2Fconsole%2Fpayments"
    )
    refused = await sign_in(browser, shop.secret)
    assert refused.status_code == 401 and "Sign-in refused" in refused.text
    assert "payledger_console" not in browser.cookies


async def test_a_revoked_token_ends_its_sessions(browser, container):
    viewer = await issue(container, "read")
    assert (await sign_in(browser, viewer.secret)).status_code == 303
    assert (await browser.get("/console/")).status_code == 200
    async with container.database.transaction() as conn:
        await ApiClients(container.clock).revoke(conn, viewer.token_id, actor="test")
    assert (await browser.get("/console/")).status_code == 303


async def test_a_tampered_session_cookie_is_refused(browser, container):
    viewer = await issue(container, "read")
    await sign_in(browser, viewer.secret)
    cookie = browser.cookies["payledger_console"]
    body, signature = cookie.split(".")
    browser.cookies.set("payledger_console", f"{body}x.{signature}", path="/console")
    assert (await browser.get("/console/")).status_code == 303


async def test_sign_in_only_returns_to_pages_inside_the_console(browser, container):
    viewer = await issue(container, "read")
    inside = await sign_in(browser, viewer.secret, "/console/dead-letters")
    assert inside.headers["location"] == "/console/dead-letters"
    elsewhere = await sign_in(browser, viewer.secret, "https://evil.example/console/")
    assert elsewhere.headers["location"] == "/console/"


async def test_the_login_form_must_come_from_the_console(browser, container):
    viewer = await issue(container, "read")
    await browser.get("/console/login")
    forged = await browser.post("/console/login", data={"token": viewer.secret, "nonce": "x"})
    assert forged.status_code == 400 and "payledger_console" not in browser.cookies


async def test_search_and_timeline_match_transaction_ids_exactly(browser, container):
    await observe(container, sale("12", "<script>alert(1)</script>"), sale("123"))
    await sign_in(browser, (await issue(container, "read")).secret)
    both = await browser.get("/console/payments", params={"q": "12"})
    assert '/console/payments/12"' in both.text and '/console/payments/123"' in both.text
    one = await browser.get("/console/payments/12")
    assert one.text.count("paytrace:12:sale") == 1 and "paytrace:123:sale" not in one.text
    assert "<script>alert(1)</script>" not in one.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in one.text
    assert (await browser.get("/console/payments/999")).status_code == 404
    assert one.headers["content-security-policy"].startswith("default-src 'none'")


async def test_replay_needs_the_session_form_token_and_the_operate_scope(browser, container):
    async with container.database.transaction() as conn:
        job_id = await container.queue.enqueue(conn, NewJob("payment.process", {"inbox_id": 1}))
        await conn.execute(jobs.update().where(jobs.c.id == job_id).values(status="dead"))
    await sign_in(browser, (await issue(container, "read", "operate")).secret)
    page = await browser.get("/console/dead-letters")
    assert f'data-job="{job_id}"' in page.text
    forged = await browser.post("/console/dead-letters/replay", data={"job_id": str(job_id)})
    assert forged.status_code == 403

    replayed = await browser.post(
        "/console/dead-letters/replay", data={"job_id": str(job_id), "csrf": csrf_of(page)}
    )
    assert replayed.status_code == 303
    assert "replayed+job" in replayed.headers["location"]
    async with container.database.transaction() as conn:
        status = await conn.scalar(select(jobs.c.status).where(jobs.c.id == job_id))
        actor = await conn.scalar(
            select(audit_log.c.actor).where(audit_log.c.action == "jobs.replay")
        )
    assert (status, actor) == ("pending", "console:ops")


async def test_a_viewer_cannot_replay(browser, container):
    await sign_in(browser, (await issue(container, "read", name="auditor")).secret)
    page = await browser.get("/console/dead-letters")
    refused = await browser.post(
        "/console/dead-letters/replay", data={"job_id": "1", "csrf": csrf_of(page)}
    )
    assert refused.status_code == 403 and "operate scope" in refused.text


async def test_mapping_preview_names_what_is_wrong_with_a_sample(browser, container):
    await sign_in(browser, (await issue(container, "read")).secret)
    csrf = csrf_of(await browser.get("/console/mapping"))
    broken = await browser.post(
        "/console/mapping",
        data={"csrf": csrf, "template": "d365_payment_journal_line", "sample": "{nope"},
    )
    assert broken.status_code == 422 and "not valid JSON" in broken.text
    unknown = await browser.post(
        "/console/mapping", data={"csrf": csrf, "template": "nope", "sample": "{}"}
    )
    assert unknown.status_code == 422 and "no template &#39;nope&#39; in force" in unknown.text
    wrong_type = await browser.post(
        "/console/mapping",
        data={
            "csrf": csrf,
            "template": "d365_payment_journal_line",
            "sample": '{"payment": {"amount": "lots"}}',
        },
    )
    assert "sample field payment.amount: expected a JSON number" in wrong_type.text


async def test_reconciliation_runs_and_reports_read_as_stored(browser, container):
    run_id = await stored_run(container)
    store = SqlReconStore(container.inbox)
    failed = await store.start_run("usmf", date(2026, 3, 2), date(2026, 3, 2), "test")
    await store.fail_run(failed, "TransientError: D365 is down")
    await sign_in(browser, (await issue(container, "read")).secret)
    listing = await browser.get("/console/reconciliation")
    assert f'data-run="{run_id}"' in listing.text and "D365 is down" in listing.text
    shown = await browser.get(f"/console/reconciliation/{run_id}")
    assert "1 exception(s) need attention" in shown.text
    assert (
        'data-reference="PT-302-PAY"' in shown.text and 'data-class="missing_in_d365"' in shown.text
    )
    csv = await browser.get(f"/console/reconciliation/{run_id}/report.csv")
    assert csv.headers["content-type"].startswith("text/csv") and "PT-302-PAY" in csv.text
    missing = await browser.get(f"/console/reconciliation/{failed}")
    assert missing.status_code == 404 and "D365 is down" in missing.text


async def test_the_sign_in_page_warns_when_served_over_plain_http_to_another_machine(container):
    transport = httpx.ASGITransport(app=create_app(container, embedded_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://ops.example") as remote:
        assert 'id="needs-https"' in (await remote.get("/console/login")).text
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8800") as local:
        assert 'id="needs-https"' not in (await local.get("/console/login")).text


OUT_OF_RANGE = ["99999999999999999999", str(2**63), "-1", "0", "9" * 3000, "1e3", "abc"]


@pytest.mark.parametrize("given", OUT_OF_RANGE, ids=lambda given: given[:24])
async def test_ids_no_row_could_have_are_not_found(browser, container, given):
    await sign_in(browser, (await issue(container, "read", "operate")).secret)
    csrf = csrf_of(await browser.get("/console/dead-letters"))
    for path in (f"/console/reconciliation/{given}", f"/console/reconciliation/{given}/report.csv"):
        missing = await browser.get(path)
        assert missing.status_code == 404 and "No such run" in missing.text, path
    event = await browser.get("/console/mapping", params={"event": given})
    assert event.status_code == 404 and "No such event" in event.text
    job = await browser.post("/console/dead-letters/replay", data={"job_id": given, "csrf": csrf})
    assert job.status_code == 404 and "No such job" in job.text
