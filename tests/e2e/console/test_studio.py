"""The mapping studio in Debian's chromium, against the real service and both sandboxes.

The D365 sandbox carries one extension field more than the default templates know
(``PaymentChannel`` on payment journal lines). A mapper maps it end to end: accepts the
suggestion, previews, types a JSONata expression the studio refuses inline, fixes it, saves,
activates; a new payment posted through the webhook, the poller-free path, reaches D365 with
the field; after a rollback the next one does not. A viewer may look but not save or activate;
two mappers editing the same version: the second save is refused naming who saved what, and
its text stays on the page.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from payledger.bench.postgres import free_port
from payledger.bootstrap import build
from payledger.config import load_settings
from payledger.stores.api_clients import ApiClients
from payledger.web.signatures import sign
from tests.e2e.console.conftest import (
    Stack,
    _env,
    _sale,
    _stop,
    _wait_for,
    base_config,
    d365_tls,
    in_own_loop,
    paytrace_token,
    start_service,
    wait_until,
)
from tests.e2e.console.studio_sandboxes import EXTENSION
from tests.e2e.console.test_console import sign_in

TEMPLATE = "d365_payment_journal_line"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"studio-e2e-webhook-key-0000001").decode()
CHANNEL = '"WEB-" & $uppercase(payment.kind)'
"""What the field ends up mapped from (the suggestion is accepted first, then replaced)."""
SANDBOXES = Path(__file__).with_name("studio_sandboxes.py")


class StudioStack(Stack):
    mappers: tuple[str, str] = ("", "")

    @property
    def service(self) -> str:
        return self.url.removesuffix("/console")

    def journal_line(self, txn: str) -> dict:
        rows = httpx.get(
            f"{self.d365}/_sandbox/state/CustomerPaymentJournalLines", verify=d365_tls(self)
        ).json()["value"]
        found = [row for row in rows if row["PaymentId"] == txn]
        assert len(found) == 1, (txn, found)
        return found[0]

    def pay(self, amount: str, invoice: str) -> str:
        """A new sale at PayTrace, told to payledger by a signed webhook; once it is posted."""
        txn = _sale(self.paytrace, paytrace_token(self.paytrace), amount, "US-001", invoice)
        body = json.dumps(
            {"type": "transaction.created", "data": {"transaction_id": int(txn)}}
        ).encode()
        message_id, stamp = f"msg_studio_{txn}", int(time.time())
        sent = httpx.post(
            f"{self.service}/webhooks/paytrace",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(WEBHOOK_SECRET, message_id, stamp, body),
            },
        )
        assert sent.status_code == 200, sent.text
        wait_until(
            lambda: (
                self.rows("SELECT state FROM postings WHERE gateway_txn_id = ?", txn)
                == [("posted",)]
            ),
            f"payment {txn} posted",
        )
        return txn


async def _prepare(config: Path) -> tuple[str, str, str]:
    """Migrate, store the secrets, and make a viewer and two mappers."""
    container = build(load_settings(config))
    try:
        await container.prepare()
        for name, value in (
            ("paytrace-password", "demo123"),
            ("d365-client-secret", "payledger-secret"),
            ("paytrace-webhook-secret", WEBHOOK_SECRET),
        ):
            await container.vault.set(name, value, actor="test")
        tokens = ApiClients(container.clock)
        async with container.database.transaction() as conn:
            viewer = await tokens.issue(conn, "auditor", ["read"], actor="test")
            made = [
                await tokens.issue(conn, name, ["read", "operate", "map"], actor="test")
                for name in ("mapper-a", "mapper-b")
            ]
    finally:
        await container.aclose()
    return viewer.secret, made[0].secret, made[1].secret


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioStack]:
    workdir = tmp_path_factory.mktemp("studio")
    pt_port, d365_port, port = free_port(), free_port(), free_port()
    sandboxes = subprocess.Popen(
        [sys.executable, str(SANDBOXES), str(pt_port), str(d365_port), "var/sandbox-tls"],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    service: subprocess.Popen | None = None
    try:
        paytrace, d365 = f"http://127.0.0.1:{pt_port}", f"https://127.0.0.1:{d365_port}"
        _wait_for(f"{paytrace}/_sandbox/clock", sandboxes)
        _wait_for(f"{d365}/data/$metadata", sandboxes, verify=False)
        token = paytrace_token(paytrace)
        seeded = [_sale(paytrace, token, amount, account, invoice)
                  for amount, account, invoice in (("42.00", "US-001", "INV-42"),
                                                   ("17.25", "US-002", "INV-43"))]  # fmt: skip
        config = workdir / "payledger.toml"
        config.write_text(
            base_config(workdir, paytrace, d365)
            + '[posting]\npost = "never"\nmax_wait_ms = 100\nlookup_ttl_seconds = 0\n'
            + "[mapping]\nversions_check_seconds = 0\n"
        )
        viewer, mapper_a, mapper_b = in_own_loop(_prepare(config))
        service = start_service(workdir, port)
        built = StudioStack(
            url=f"http://127.0.0.1:{port}/console",
            config=config,
            database=workdir / "var/payledger.db",
            paytrace=paytrace,
            d365=d365,
            certificate=workdir / "var/sandbox-tls/sandbox-cert.pem",
            operator_token="",
            viewer_token=viewer,
            posted_txn=seeded[0],
            dead_txn="",
        )
        built.mappers = (mapper_a, mapper_b)
        wait_until(
            lambda: (
                built.rows("SELECT state, count(*) FROM postings GROUP BY state") == [("posted", 2)]
            ),
            "both seeded payments posted",
        )
        yield built
    finally:
        if service is not None:
            _stop(service)
        _stop(sandboxes)


def open_studio(page, stack: StudioStack) -> None:
    page.goto(f"{stack.url}/studio")
    page.click(f'#templates a:text-is("{TEMPLATE}")')
    page.wait_for_selector("#editor")


def extension_row(page):
    return page.locator(f'#targets tr[data-target="{EXTENSION}"]')


def test_a_mapper_maps_a_new_extension_field_end_to_end(page, stack: StudioStack):
    sign_in(page, stack, stack.mappers[0])
    page.click("nav >> text=Mapping studio")
    open_studio(page, stack)
    row = extension_row(page)
    assert "unmapped" in (row.get_attribute("class") or "")

    # The suggestion, accepted with one click, is previewed on the stored events.
    first = row.locator(".candidate").first
    source = first.get_attribute("data-source")
    assert source, "no suggestion for the new field"
    first.locator("button").click()
    row = extension_row(page)
    assert source in row.locator("code.mapping").inner_text()
    previewed = page.locator(f'.preview .lineage tr[data-field="{EXTENSION}"]').first
    assert source in previewed.inner_text()
    assert EXTENSION in page.locator(".preview .payload").first.inner_text()

    # A JSONata expression with a syntax error is refused beside the field; the draft keeps
    # the accepted mapping.
    page.fill("#target", EXTENSION)
    page.select_option("#mode", "jsonata")
    page.fill("#expression", CHANNEL[:-1])
    page.click("#apply")
    error = page.inner_text("#edit-errors")
    assert EXTENSION in error and "jsonata" in error.lower()
    assert page.input_value("#expression") == CHANNEL[:-1]  # the edit is kept
    assert "$uppercase" not in page.input_value("#body")

    page.fill("#expression", CHANNEL)
    page.click("#apply")
    assert page.locator("#edit-errors").count() == 0
    assert "$uppercase" in page.input_value("#body")
    value = json.loads(
        page.locator(f'.preview .lineage tr[data-field="{EXTENSION}"] td').nth(2).first.inner_text()
    )
    assert value == "WEB-SALE"
    assert page.locator("#lint-ok").count() == 1

    page.fill("#comment", "carry the payment channel to D365")
    page.click("#save")
    saved = page.inner_text("#done")
    assert "saved version" in saved
    version = saved.split("saved version ")[1].split(" ")[0]
    page.click(f'#versions tr[data-version="{version}"] button:text-is("Activate")')
    assert page.inner_text("#done") == f"activated version {version}"
    assert page.inner_text("#active-version") == version

    txn = stack.pay("63.10", "INV-63")
    assert stack.journal_line(txn)[EXTENSION] == value
    assert (
        stack.scalar("SELECT template_version FROM postings WHERE gateway_txn_id = ?", txn)
        == f"{TEMPLATE}@{version}"
    )

    page.click("#rollback button")
    assert "rolled back" in page.inner_text("#done")
    after = stack.pay("64.20", "INV-64")
    assert stack.journal_line(after)[EXTENSION] in (None, "")
    assert (
        stack.scalar("SELECT template_version FROM postings WHERE gateway_txn_id = ?", after)
        != f"{TEMPLATE}@{version}"
    )
    audited = stack.rows(
        "SELECT action, actor FROM audit_log WHERE action LIKE 'template.%' ORDER BY id"
    )
    assert [action for action, _ in audited][-3:] == [
        "template.save", "template.activate", "template.rollback"
    ]  # fmt: skip
    assert {actor for _, actor in audited[-3:]} == {"console:mapper-a"}


def test_a_viewer_may_look_but_not_save_or_activate(page, stack: StudioStack):
    sign_in(page, stack, stack.viewer_token)
    open_studio(page, stack)
    assert "mapper role" in page.inner_text("#viewer-note")
    assert page.locator("#save").is_disabled() and page.locator("#apply").is_disabled()
    assert all(b.is_disabled() for b in page.locator("#versions button").all())
    saved = stack.scalar("SELECT count(*) FROM template_versions")

    # Enabling the button by hand does not help: the server refuses and names the role.
    page.eval_on_selector("#save", "b => b.removeAttribute('disabled')")
    page.eval_on_selector("#comment", "c => { c.removeAttribute('disabled'); c.value = 'x' }")
    page.click("#save")
    assert page.inner_text("h1") == "Mapper access needed"
    assert "--role mapper" in page.inner_text("#problem")
    assert stack.scalar("SELECT count(*) FROM template_versions") == saved


def test_the_second_of_two_concurrent_saves_is_refused_and_keeps_its_text(
    browser, stack: StudioStack
):
    pages = []
    for token in stack.mappers:
        context = browser.new_context()
        context.set_default_timeout(30_000)
        pages.append(context.new_page())
        sign_in(pages[-1], stack, token)
        open_studio(pages[-1], stack)
    first, second = pages
    assert first.inner_text("#based-on") == second.inner_text("#based-on")
    before = stack.scalar("SELECT count(*) FROM template_versions")

    for page, note in ((first, "first"), (second, "second")):
        page.fill("#target", "PaymentNotes")
        page.select_option("#mode", "jsonata")
        page.fill("#expression", f'"{note} mapper: " & payment.message')
        page.click("#apply")
        assert page.locator("#edit-errors").count() == 0
        page.fill("#comment", f"notes by the {note} mapper")
    first.click("#save")
    assert "saved version" in first.inner_text("#done")
    second.click("#save")

    refused = second.inner_text("#message")
    assert "Not saved" in refused and "console:mapper-a saved version" in refused
    assert '"second mapper: "' in second.input_value("#body")  # nothing lost on the page
    assert stack.scalar("SELECT count(*) FROM template_versions") == before + 1
    stored = stack.scalar("SELECT body FROM template_versions ORDER BY id DESC LIMIT 1")
    assert "first mapper" in str(stored) and "second mapper" not in str(stored)
    for page in pages:
        page.context.close()
