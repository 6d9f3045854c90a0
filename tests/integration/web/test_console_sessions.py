"""Console sessions live on the server: signing out, revoking the token or waiting out the
lifetime ends one, and its cookie is refused from then on, replays included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import audit_log, console_sessions
from payledger.bootstrap import Container, build
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app
from tests.integration.web.test_console import csrf_of, issue, sign_in


@pytest.fixture
async def container(settings, clock) -> AsyncIterator[Container]:
    """The service on a clock the test moves."""
    built = build(settings, clock=clock)
    await migrate(built.database)
    yield built
    await built.aclose()


@pytest.fixture
def service(container) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(container, embedded_worker=False))


@pytest.fixture
async def browser(service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=service, base_url="https://payledger.test") as http:
        yield http


def another_browser(service: httpx.ASGITransport, cookie: str = "") -> httpx.AsyncClient:
    """A second browser, holding a copy of a session ``cookie`` when given one."""
    other = httpx.AsyncClient(transport=service, base_url="https://payledger.test")
    if cookie:
        other.cookies.set("payledger_console", cookie, path="/console")
    return other


async def sessions(container) -> list[tuple[str, bool]]:
    async with container.database.transaction() as conn:
        rows = await conn.execute(
            select(console_sessions.c.user_name, console_sessions.c.ended_at.is_not(None))
        )
        return [tuple(row) for row in rows]


async def test_signing_out_ends_the_session_on_the_server(browser, service, container):
    await sign_in(browser, (await issue(container, "read", "operate")).secret)
    dashboard = await browser.get("/console/")
    stolen = browser.cookies["payledger_console"]

    signed_out = await browser.post("/console/logout", data={"csrf": csrf_of(dashboard)})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/console/login"
    assert await sessions(container) == [("ops", True)]

    async with another_browser(service, stolen) as attacker:
        page = await attacker.get("/console/dead-letters")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/console/login?next=")
        replay = await attacker.post(
            "/console/dead-letters/replay", data={"job_id": "1", "csrf": csrf_of(dashboard)}
        )
        assert replay.status_code == 303 and replay.headers["location"].startswith("/console/login")
        again = await attacker.post("/console/logout", data={"csrf": csrf_of(dashboard)})
        assert again.status_code == 303 and again.headers["location"].startswith("/console/login")


async def test_sign_in_and_sign_out_are_audited_and_the_cookie_holds_no_token(browser, container):
    viewer = await issue(container, "read", name="auditor")
    await sign_in(browser, viewer.secret)
    cookie = browser.cookies["payledger_console"]
    assert viewer.secret not in cookie and "auditor" not in cookie
    await browser.post("/console/logout", data={"csrf": csrf_of(await browser.get("/console/"))})
    async with container.database.transaction() as conn:
        actions = (
            await conn.execute(
                select(audit_log.c.action, audit_log.c.actor)
                .where(audit_log.c.action.like("console.%"))
                .order_by(audit_log.c.id)
            )
        ).all()
    assert [tuple(a) for a in actions] == [
        ("console.signed_in", "console:auditor"),
        ("console.signed_out", "console:auditor"),
    ]


async def test_revoking_the_token_ends_its_sessions_even_mid_way(browser, container):
    operator = await issue(container, "read", "operate")
    await sign_in(browser, operator.secret)
    page = await browser.get("/console/dead-letters")
    async with container.database.transaction() as conn:
        await ApiClients(container.clock).revoke(conn, operator.token_id, actor="test")
    assert (await browser.get("/console/")).status_code == 303
    replay = await browser.post(
        "/console/dead-letters/replay", data={"job_id": "1", "csrf": csrf_of(page)}
    )
    assert replay.status_code == 303 and replay.headers["location"].startswith("/console/login")


async def test_a_session_ends_after_its_eight_hours(browser, container, clock):
    await sign_in(browser, (await issue(container, "read")).secret)
    clock.advance(hours=7, minutes=59)
    assert (await browser.get("/console/")).status_code == 200
    clock.advance(minutes=1)
    assert (await browser.get("/console/")).status_code == 303


async def test_a_cookie_for_another_session_id_is_refused(browser, container):
    await sign_in(browser, (await issue(container, "read")).secret)
    session_id, _, signature = browser.cookies["payledger_console"].partition(".")
    other = "B" if session_id.endswith("A") else "A"
    forged = f"{session_id[:-1]}{other}.{signature}"
    browser.cookies.set("payledger_console", forged, path="/console")
    assert (await browser.get("/console/")).status_code == 303


async def test_signing_in_again_ends_the_browsers_previous_session(browser, service, container):
    token = (await issue(container, "read")).secret
    await sign_in(browser, token)
    first = browser.cookies["payledger_console"]
    await sign_in(browser, token)
    assert browser.cookies["payledger_console"] != first
    assert (await browser.get("/console/")).status_code == 200
    async with another_browser(service, first) as old:
        assert (await old.get("/console/")).status_code == 303


async def test_sign_in_forgets_sessions_that_ended_or_expired(browser, service, container, clock):
    token = (await issue(container, "read")).secret
    await sign_in(browser, token)
    await browser.post("/console/logout", data={"csrf": csrf_of(await browser.get("/console/"))})
    async with another_browser(service) as other:
        await sign_in(other, token)
        clock.advance(hours=8)
        await sign_in(browser, token)
        assert await sessions(container) == [("ops", False)]
        assert (await browser.get("/console/")).status_code == 200
