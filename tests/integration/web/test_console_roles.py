"""Console roles, CSRF and audit, walked over every registered form: a form without this
session's CSRF token, with a wrong one or from another site is refused with 403 and changes
nothing; each role gets the actions its role allows and a 403 page naming the role otherwise;
every change an operator makes is in the audit log as ``console:<user>``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from payledger.adapters.db.tables import audit_log, metadata
from payledger.bootstrap.dunning import dunning_policy
from payledger.domain.dunning import (
    AttemptOutcome,
    CaseSource,
    DeclineClass,
    MissedCharge,
    open_case,
)
from payledger.domain.money import Money
from payledger.domain.subscriptions import BillingSchedule, Interval, Subscription
from payledger.stores.dunning import SqlDunning
from payledger.stores.subscriptions import SqlSubscriptions
from payledger.web.console import PREFIX, ROUTERS
from tests.integration.web.test_console import csrf_of, issue, sign_in
from tests.integration.web.test_console_origin import dead_job
from tests.unit.domain.subscription_builders import plan

FILLS = {"given": "1", "action": "stop"}
"""Path parameters of the walked forms: a row that exists and an action that changes it."""


def console_forms() -> list[str]:
    """Every POST route ``install_console`` registers but sign-in (which has no session yet)."""
    paths = sorted(
        PREFIX + route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    )
    assert "/console/login" in paths, "the walk found no console routes"
    return [path for path in paths if path != "/console/login"]


def filled(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: FILLS.get(m.group(1), "1"), path)


async def everything(container) -> dict[str, list[tuple[Any, ...]]]:
    async with container.database.transaction() as conn:
        return {
            table.name: sorted((await conn.execute(select(table))).all(), key=repr)
            for table in metadata.sorted_tables
        }


async def seed(container) -> None:
    """A dead job, a subscription and two dunning cases: what the forms act on (id 1 each)."""
    assert await dead_job(container) == 1
    # Dunning's ports hold a D365 client (stopping a case never calls it): it needs its secret.
    await container.vault.set("d365-client-secret", "unused", actor="test")
    subscription = Subscription(
        customer_account="US-001",
        vault_customer_id="cust-1",
        plan=plan(),
        schedule=BillingSchedule(date(2030, 1, 31), Interval(), "America/Los_Angeles"),
    )
    stored = await SqlSubscriptions(container.database, container.clock).add(
        subscription, actor="test"
    )
    policy, cases = dunning_policy(container.settings), []
    for invoice in ("INV-1", "INV-2"):
        missed = MissedCharge(
            CaseSource.AUTO_PAY, f"auto-pay:{invoice}:1", invoice, "US-001", "cust-1",
            Money.of("30.00"), datetime.now(UTC), AttemptOutcome.DECLINED, "NSF", "1",
        )  # fmt: skip
        case, _ = await SqlDunning(container.database, container.clock).open(
            open_case(missed, DeclineClass.SOFT, policy.schedule), actor="test"
        )
        cases.append(case.id)
    assert (stored.id, cases) == (1, [1, 2])


def form(csrf: str) -> dict[str, str]:
    return {"csrf": csrf, "job_id": "1", "version": "1", "batch_number": "1", "reason": "test"}


@pytest.fixture
async def operator(browser, container) -> str:
    await seed(container)
    await sign_in(browser, (await issue(container, "read", "operate")).secret)
    return csrf_of(await browser.get("/console/dead-letters"))


def test_the_walk_covers_every_console_form():
    assert set(console_forms()) >= {
        "/console/logout",
        "/console/dead-letters/replay",
        "/console/journals/approve",
        "/console/mapping",
        "/console/subscriptions/{given}/{action}",
        "/console/dunning/{given}/{action}",
        "/console/studio/{name}",
        "/console/studio/{name}/activate",
        "/console/studio/{name}/rollback",
    }


@pytest.mark.parametrize(
    ("csrf", "headers", "title"),
    [
        (None, {}, "Form expired"),
        ("forged", {}, "Form expired"),
        ("", {"Origin": "https://evil.example"}, "Request from another site refused"),
        ("", {"Sec-Fetch-Site": "cross-site"}, "Request from another site refused"),
    ],
    ids=["no token", "wrong token", "foreign origin", "cross-site fetch"],
)
async def test_every_console_form_refuses_a_forged_request_and_changes_nothing(
    browser, container, operator, csrf, headers, title
):
    before = await everything(container)
    for path in console_forms():
        data = form(operator if csrf == "" else csrf or "")
        if csrf is None:
            del data["csrf"]
        refused = await browser.post(filled(path), data=data, headers=headers)
        assert refused.status_code == 403, path
        assert title in refused.text, path
        assert await everything(container) == before, path
    assert (await browser.get("/console/")).status_code == 200  # still signed in


async def test_a_forged_sign_in_opens_no_session(browser, container):
    before = await everything(container)
    viewer = await issue(container, "read")
    await browser.get("/console/login")
    forged = await browser.post("/console/login", data={"token": viewer.secret, "nonce": "x"})
    assert forged.status_code == 400 and "payledger_console" not in browser.cookies
    after = await everything(container)
    assert after["console_sessions"] == before["console_sessions"] == []


async def actions_as(browser, container, token: str) -> dict[str, int]:
    await sign_in(browser, token)
    csrf = csrf_of(await browser.get("/console/dead-letters"))
    sent = {}
    for path in ("/console/dead-letters/replay", "/console/dunning/1/stop"):
        sent[path] = (await browser.post(path, data=form(csrf))).status_code
    return sent


async def test_a_viewer_is_refused_every_action_with_the_role_it_needs(browser, container):
    await seed(container)
    await sign_in(browser, (await issue(container, "read", name="auditor")).secret)
    page = await browser.get("/console/dead-letters")
    before = await everything(container)
    assert 'data-role="viewer"' in page.text and 'id="viewer-note"' in page.text
    for path in console_forms():
        if path in ("/console/logout", "/console/mapping"):
            continue  # open to every role: signing out, and a preview that writes nothing
        needed = "mapper" if path.startswith("/console/studio") else "operator"
        refused = await browser.post(filled(path), data=form(csrf_of(page)))
        assert refused.status_code == 403, path
        assert f"{needed.capitalize()} access needed" in refused.text, path
        assert "signed in as viewer" in refused.text and f"--role {needed}" in refused.text
    assert await everything(container) == before


@pytest.mark.parametrize(
    ("scopes", "role"),
    [(("operate",), "operator"), (("map",), "mapper"), (("admin",), "admin")],
)
async def test_operators_and_higher_roles_may_act(browser, container, scopes, role):
    await seed(container)
    token = await issue(container, *scopes)
    sent = await actions_as(browser, container, token.secret)
    assert set(sent.values()) == {303}, sent
    assert f'data-role="{role}"' in (await browser.get("/console/")).text


async def test_the_flow_page_draws_every_flow_for_a_viewer(browser, container):
    await sign_in(browser, (await issue(container, "read")).secret)
    flows = await browser.get("/console/flows")
    assert flows.status_code == 200
    assert flows.text.count("<svg") == len(re.findall(r'data-flow="', flows.text)) >= 8
    assert 'data-node="step:payment.process"' in flows.text
    assert 'data-node="template:d365_payment_journal_line"' in flows.text
    assert "style=" not in flows.text  # the CSP allows no inline styles
    assert 'href="/console/flows"' in flows.text  # in the menu


async def test_every_operator_action_is_in_the_audit_log(browser, container, operator):
    """The actions that need no vendor (subscription changes also write D365: the browser tests
    in tests/e2e/console check their audit rows against the sandboxes)."""
    actions = [
        ("/console/dead-letters/replay", {"job_id": "1"}),
        ("/console/dunning/1/stop", {"version": "1", "reason": "customer called"}),
        ("/console/dunning/2/stop", {"version": "1", "reason": "paid by wire"}),
        ("/console/logout", {}),
    ]
    for path, data in actions:
        async with container.database.transaction() as conn:
            seen = len((await conn.execute(select(audit_log.c.id))).all())
        done = await browser.post(path, data={"csrf": operator, **data})
        assert done.status_code == 303, (path, done.text[-500:])
        async with container.database.transaction() as conn:
            rows = (
                await conn.execute(
                    select(audit_log.c.actor, audit_log.c.action)
                    .order_by(audit_log.c.id)
                    .offset(seen)
                )
            ).all()
        assert rows and {actor for actor, _ in rows} == {"console:ops"}, (path, rows)
