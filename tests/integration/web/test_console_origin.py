"""Console forms sent by another site's page are refused: the browser's Origin and
Sec-Fetch-Site headers must name the console itself; without them the CSRF token decides."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import jobs
from payledger.bootstrap import build
from payledger.config import ServiceSettings
from payledger.engine.jobs import NewJob
from payledger.web.app import create_app
from payledger.web.console.origin import normal_origin
from tests.integration.web.test_console import csrf_of, issue, sign_in

SAME_ORIGIN = {"Origin": "https://payledger.test", "Sec-Fetch-Site": "same-origin"}


async def dead_job(container) -> int:
    async with container.database.transaction() as conn:
        job_id = await container.queue.enqueue(conn, NewJob("payment.process", {"inbox_id": 1}))
        await conn.execute(jobs.update().where(jobs.c.id == job_id).values(status="dead"))
    return job_id


async def status_of(container, job_id: int) -> str:
    async with container.database.transaction() as conn:
        return str(await conn.scalar(select(jobs.c.status).where(jobs.c.id == job_id)))


@pytest.fixture
async def operator(browser, container) -> str:
    """Signs ``browser`` in as an operator; the dead-letter page's form token."""
    await sign_in(browser, (await issue(container, "read", "operate")).secret)
    return csrf_of(await browser.get("/console/dead-letters"))


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://payledger.test", "Sec-Fetch-Site": "same-site"},
        {"Origin": "http://payledger.test"},
        {"Origin": "https://payledger.test:8443"},
        {"Origin": "null"},
        {"Origin": "https://payledger.test:99999"},
        {"Sec-Fetch-Site": "none"},
    ],
    ids=lambda headers: " ".join(f"{k}={v}" for k, v in headers.items()),
)
async def test_a_form_from_another_site_is_refused_even_with_the_session_token(
    browser, container, operator, headers
):
    job_id = await dead_job(container)
    refused = await browser.post(
        "/console/dead-letters/replay",
        data={"job_id": str(job_id), "csrf": operator},
        headers=headers,
    )
    assert refused.status_code == 403
    assert "Request from another site refused" in refused.text
    assert await status_of(container, job_id) == "dead"


async def test_the_refusal_names_the_sending_site_and_the_consoles_own(browser, operator):
    refused = await browser.post(
        "/console/logout", data={"csrf": operator}, headers={"Origin": "https://evil.example"}
    )
    problem = re.search(r'id="problem">([^<]*)<', refused.text).group(1)
    assert "&#39;https://evil.example&#39;" in problem and "https://payledger.test:443" in problem
    assert (await browser.get("/console/")).status_code == 200  # still signed in


async def test_duplicate_origin_headers_are_refused(browser, container, operator):
    job_id = await dead_job(container)
    refused = await browser.post(
        "/console/dead-letters/replay",
        data={"job_id": str(job_id), "csrf": operator},
        headers=[("Origin", "https://payledger.test"), ("Origin", "https://evil.example")],
    )
    # The inbound guard refuses a repeated singleton header before the console sees it.
    assert refused.status_code == 400 and refused.json()["error"] == "duplicate_header"
    assert await status_of(container, job_id) == "dead"


@pytest.mark.parametrize(
    "headers",
    [SAME_ORIGIN, {"Origin": "https://PayLedger.test:443"}, {"Sec-Fetch-Site": "same-origin"}],
    ids=["origin and fetch site", "origin spelled otherwise", "fetch site only"],
)
async def test_a_form_from_the_console_itself_is_accepted(browser, container, operator, headers):
    job_id = await dead_job(container)
    replayed = await browser.post(
        "/console/dead-letters/replay",
        data={"job_id": str(job_id), "csrf": operator},
        headers=headers,
    )
    assert replayed.status_code == 303 and "replayed+job" in replayed.headers["location"]
    assert await status_of(container, job_id) == "pending"


async def test_without_either_header_the_csrf_token_decides(browser, container, operator):
    job_id = await dead_job(container)
    forged = await browser.post("/console/dead-letters/replay", data={"job_id": str(job_id)})
    assert forged.status_code == 403 and "Form expired" in forged.text
    assert await status_of(container, job_id) == "dead"
    replayed = await browser.post(
        "/console/dead-letters/replay", data={"job_id": str(job_id), "csrf": operator}
    )
    assert replayed.status_code == 303 and await status_of(container, job_id) == "pending"


async def test_the_same_origin_does_not_excuse_a_missing_csrf_token(browser, container, operator):
    forged = await browser.post(
        "/console/dead-letters/replay", data={"job_id": "1"}, headers=SAME_ORIGIN
    )
    assert forged.status_code == 403 and "Form expired" in forged.text


async def test_sign_in_from_another_site_opens_no_session(browser, container):
    viewer = await issue(container, "read")
    form = await browser.get("/console/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text).group(1)
    refused = await browser.post(
        "/console/login",
        data={"token": viewer.secret, "nonce": nonce},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403 and "payledger_console" not in browser.cookies
    accepted = await browser.post(
        "/console/login", data={"token": viewer.secret, "nonce": nonce}, headers=SAME_ORIGIN
    )
    assert accepted.status_code == 303 and "payledger_console" in browser.cookies


async def test_links_from_other_sites_still_open_console_pages(browser, operator):
    page = await browser.get(
        "/console/dead-letters",
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert page.status_code == 200


async def test_behind_a_proxy_the_configured_public_origin_is_the_consoles(settings):
    behind_proxy = settings.model_copy(
        update={
            "service": settings.service.model_copy(
                update={"public_origin": "https://payledger.example.com"}
            )
        }
    )
    container = build(behind_proxy)
    try:
        await migrate(container.database)
        transport = httpx.ASGITransport(app=create_app(container, embedded_worker=False))
        async with httpx.AsyncClient(
            transport=transport, base_url="https://10.0.0.7:8800"
        ) as proxy:
            await sign_in(proxy, (await issue(container, "read")).secret)
            csrf = csrf_of(await proxy.get("/console/"))
            public = {"Origin": "https://payledger.example.com", "Sec-Fetch-Site": "same-origin"}
            other = {"Origin": "https://evil.example.com", "Sec-Fetch-Site": "same-origin"}
            refused = await proxy.post("/console/logout", data={"csrf": csrf}, headers=other)
            assert refused.status_code == 403
            signed_out = await proxy.post("/console/logout", data={"csrf": csrf}, headers=public)
            assert signed_out.status_code == 303
            assert (await proxy.get("/console/")).status_code == 303
    finally:
        await container.aclose()


@pytest.mark.parametrize(
    "value", ["payledger.example.com", "https://pay.example/console", "ftp://pay.example"]
)
def test_a_public_origin_must_be_scheme_host_and_port(value):
    with pytest.raises(ValueError, match="public_origin"):
        ServiceSettings(public_origin=value)
    assert ServiceSettings(public_origin="https://pay.example:8443/").public_origin == (
        "https://pay.example:8443"
    )


def test_origins_compare_by_scheme_host_and_port():
    assert normal_origin("HTTPS://Pay.Example") == "https://pay.example:443"
    assert normal_origin("http://[::1]:8800") == "http://[::1]:8800"
    assert normal_origin("http://127.0.0.1") == "http://127.0.0.1:80"
    for not_an_origin in (
        "null",
        "",
        "file:///etc",
        "https://a@pay.example",
        "https://pay.example/x",
    ):
        assert normal_origin(not_an_origin) is None
