"""The mapping studio's routes on SQLite and PostgreSQL, with D365 off (its fields on trust,
PayTrace's exactly): bad edits refused before saving with the field and the reason, saves that
need a comment and a clean check, optimistic concurrency, activation that the store refuses
for an invalid version, rollback, diff, roles, and the audit log."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import audit_log
from payledger.config import ServiceSettings, Settings
from payledger.templates import seed_sources
from tests.integration.web.test_console import csrf_of, issue, sign_in

NAME = "d365_payment_journal_line"
CHARGE = "paytrace_transaction_request"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The web tests' settings with the default body limit: a template is larger than 4 KiB."""
    return settings.model_copy(update={"service": ServiceSettings()})


@pytest.fixture
async def mapper(browser, container) -> str:
    await sign_in(browser, (await issue(container, "read", "map", name="maria")).secret)
    return csrf_of(await browser.get(f"/console/studio/{NAME}"))


def draft_of(page) -> str:
    found = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found, page.text[-2000:]
    return html.unescape(found.group(1))


def edit(csrf: str, body: str, **fields: str) -> dict[str, str]:
    return {"csrf": csrf, "body": body, "based_on": "0", "action": "apply", **fields}


async def versions(container, name: str = NAME) -> list[int]:
    return [v.version for v in await container.template_versions().versions(name)]


async def test_the_editor_shows_the_draft_and_the_lint_to_anyone_signed_in(browser, container):
    await sign_in(browser, (await issue(container, "read", name="val")).secret)
    page = await browser.get(f"/console/studio/{NAME}")
    assert page.status_code == 200
    assert draft_of(page) == seed_sources(Settings())[NAME]
    assert 'id="viewer-note"' in page.text and 'id="lint-ok"' in page.text
    assert "<main>" in page.text and 'for="comment"' in page.text
    index = await browser.get("/console/studio")
    assert f'data-template="{NAME}"' in index.text


@pytest.mark.parametrize(
    ("name", "fields", "reason"),
    [
        (NAME, {"target": "PaymentNotes", "mode": "jsonata", "expression": "$trim(payment.message"},
         "PaymentNotes: JSONata expression &#39;$trim(payment.message&#39; does not parse"),
        (NAME, {"target": "PaymentNotes", "mode": "transform", "path": "payment.message",
                "transform": "truncate", "params": "width: 60"},
         "transform truncate has no parameter width (it takes length)"),
        (CHARGE, {"target": "no_such_field", "path": "payment.amount"},
         "no_such_field: transaction_request has no property no_such_field in $metadata"),
        (CHARGE, {"target": "amount", "path": "payment.occurred_at"},
         "amount: produces datetime, but the target is decimal"),
    ],
    ids=["invalid jsonata", "wrong parameters", "not in $metadata", "type cannot fit"],
)  # fmt: skip
async def test_a_bad_edit_is_refused_beside_the_field_and_the_draft_is_unchanged(
    browser, container, mapper, name, fields, reason
):
    body = seed_sources(Settings())[name]
    refused = await browser.post(f"/console/studio/{name}", data=edit(mapper, body, **fields))
    assert refused.status_code == 422
    assert reason in refused.text, refused.text[refused.text.find("edit-errors") :][:600]
    assert draft_of(refused) == body
    assert await versions(container, name) == []


async def test_an_edit_that_drops_a_key_is_refused(browser, container, mapper):
    body = seed_sources(Settings())[CHARGE]
    refused = await browser.post(
        f"/console/studio/{CHARGE}", data=edit(mapper, body, remove="amount")
    )
    assert refused.status_code == 422 and "required property amount is not mapped" in refused.text


async def test_a_save_needs_a_comment_and_a_clean_check(browser, container, mapper):
    body = seed_sources(Settings())[NAME]
    form = {"csrf": mapper, "body": body, "based_on": "0", "action": "save", "comment": " "}
    no_comment = await browser.post(f"/console/studio/{NAME}", data=form)
    assert no_comment.status_code == 422 and "say in the comment" in no_comment.text
    broken = body.replace("{path: payment.gateway_txn_id}", "{path: payment.no_such_path}")
    form |= {"body": broken, "comment": "typo"}
    unclean = await browser.post(f"/console/studio/{NAME}", data=form)
    assert unclean.status_code == 422 and "unknown source path payment.no_such_path" in unclean.text
    assert draft_of(unclean) == broken  # the text stays on the page
    assert await versions(container) == []


async def test_save_activate_rollback_and_diff_are_audited(browser, container, mapper):
    body = seed_sources(Settings())[NAME]
    applied = await browser.post(
        f"/console/studio/{NAME}",
        data=edit(
            mapper, body, target="PaymentNotes", mode="jsonata", expression="payment.message"
        ),
    )
    assert applied.status_code == 200
    changed = draft_of(applied)
    assert "  PaymentNotes: {jsonata: payment.message}" in changed
    form = {"csrf": mapper, "body": changed, "based_on": "0", "action": "save", "comment": "notes"}
    saved = await browser.post(f"/console/studio/{NAME}", data=form)
    assert saved.status_code == 303 and "saved+version+1" in saved.headers["location"]
    activated = await browser.post(
        f"/console/studio/{NAME}/activate", data={"csrf": mapper, "version": "1"}
    )
    assert activated.status_code == 303
    assert await container.template_versions().active_version(NAME) == 1
    diff = await browser.get(f"/console/studio/{NAME}/diff?a=0&b=1")
    assert "+  PaymentNotes: {jsonata: payment.message}" in html.unescape(diff.text)
    rolled = await browser.post(f"/console/studio/{NAME}/rollback", data={"csrf": mapper})
    assert rolled.status_code == 303
    assert await container.template_versions().active_version(NAME) == 0
    nothing = await browser.post(f"/console/studio/{NAME}/rollback", data={"csrf": mapper})
    assert nothing.status_code == 409 and "no activation left to roll back" in nothing.text
    async with container.database.transaction() as conn:
        rows = (
            await conn.execute(
                select(audit_log.c.action, audit_log.c.actor).where(
                    audit_log.c.action.like("template.%")
                )
            )
        ).all()
    assert sorted(rows) == sorted(
        (action, "console:maria")
        for action in ("template.save", "template.activate", "template.rollback")
    )


async def test_a_concurrent_save_is_refused_naming_who_saved_what(browser, container, mapper):
    await container.template_versions().save(
        NAME, seed_sources(Settings())[NAME], author="console:olga", based_on=0, comment="first"
    )
    mine = seed_sources(Settings())[NAME].replace("PayTrace {kind}", "Card {kind}")
    form = {"csrf": mapper, "body": mine, "based_on": "0", "action": "save", "comment": "mine"}
    refused = await browser.post(f"/console/studio/{NAME}", data=form)
    assert refused.status_code == 409
    assert "you started from version 0, but console:olga saved version 1" in refused.text
    assert draft_of(refused) == mine
    assert await versions(container) == [1]


async def test_an_invalid_version_cannot_be_activated(browser, container, mapper):
    broken = seed_sources(Settings())[NAME].replace(
        "{path: payment.gateway_txn_id}", "{path: payment.no_such_path}"
    )
    await container.template_versions().save(NAME, broken, author="git", based_on=0)
    refused = await browser.post(
        f"/console/studio/{NAME}/activate", data={"csrf": mapper, "version": "1"}
    )
    assert refused.status_code == 422
    assert "unknown source path payment.no_such_path" in refused.text
    assert await container.template_versions().active_version(NAME) == 0


async def test_a_viewer_is_refused_every_studio_action(browser, container):
    await sign_in(browser, (await issue(container, "read", "operate", name="otto")).secret)
    csrf = csrf_of(await browser.get(f"/console/studio/{NAME}"))
    body = seed_sources(Settings())[NAME]
    for path, data in (
        (f"/console/studio/{NAME}", {"body": body, "based_on": "0", "action": "save",
                                     "comment": "x"}),
        (f"/console/studio/{NAME}/activate", {"version": "0"}),
        (f"/console/studio/{NAME}/rollback", {}),
    ):  # fmt: skip
        refused = await browser.post(path, data={"csrf": csrf, **data})
        assert refused.status_code == 403 and "Mapper access needed" in refused.text, path
    assert await versions(container) == []
