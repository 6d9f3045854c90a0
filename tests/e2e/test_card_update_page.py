"""The card-update page end to end: ``payledger serve`` with both sandboxes and a real SMTP
server; a dunning case's e-mail carries the link; Chromium (Playwright) enters a new card in
PayTrace Protect's fields by keyboard alone; the charge is retried at once and recovered. The
card never reaches payledger (its requests, database and log: ``payledger scan-pan`` finds
nothing); expired, reused and tampered links change nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from aiosmtpd.controller import Controller

from payledger.bench.postgres import free_port
from payledger.bootstrap import build
from payledger.bootstrap.dunning import dunning_ports
from payledger.bootstrap.dunning_notices import link_key
from payledger.config import load_settings
from payledger.domain.card_links import CardLink, sign_link
from payledger.domain.dunning import AttemptOutcome, CaseSource, MissedCharge
from payledger.domain.money import Money
from payledger.flows.dunning import open_dunning_case
from payledger.sandbox.paytrace import encrypt_field
from payledger.sandbox.paytrace.protect import open_nonce
from tests.e2e.console.conftest import (
    CHROMIUM,
    INTEGRATOR,
    PAYLEDGER,
    _env,
    _prepare,
    _stop,
    base_config,
    in_own_loop,
    launched_chromium,
    paytrace_token,
    start_sandboxes,
    start_service,
    wait_until,
)

NEW_CARD = "5454545454545454"
OLD_CARD = "4012000098765439"
CUSTOMER = "dunning-cust-1"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@dataclass
class Stack:
    base: str
    config: Path
    workdir: Path
    paytrace: str
    mailbox: Mailbox
    case_id: int
    invoice: str

    def link(self) -> str:
        text = self.mailbox.messages[0].get_body(("plain",)).get_content()
        return next(word for word in text.split() if word.startswith(f"{self.base}/pay/"))


def _config(workdir: Path, paytrace: str, d365: str, port: int, smtp: int) -> str:
    return (
        base_config(workdir, paytrace, d365)
        + f"""[posting]
post = "never"
[alerts.smtp]
host = "127.0.0.1"
port = {smtp}
security = "none"
[dunning]
enabled = true
[dunning.notices]
sender = "billing@contoso.example"
merchant_name = "Contoso"
public_base_url = "http://127.0.0.1:{port}"
protect_script_url = "{paytrace}/js/protect.min.js"
"""
    )


def _vault_customer(paytrace: str, token: str) -> None:
    created = httpx.post(
        f"{paytrace}/v1/customer/create",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "integrator_id": INTEGRATOR,
            "customer_id": CUSTOMER,
            "credit_card": {
                "encrypted_number": encrypt_field(OLD_CARD),
                "expiration_month": "12",
                "expiration_year": "2030",
            },
            "billing_address": {"name": "Dana Customer"},
        },
    ).json()
    assert created["success"], created


async def _open_case(config: Path, invoice: str) -> int:
    container = build(load_settings(config))
    try:
        missed = MissedCharge(
            source=CaseSource.API,
            source_key="api:e2e-1",
            invoice_number=invoice,
            customer_account="US-003",
            vault_customer_id=CUSTOMER,
            amount=Money.of("42.00"),
            at=datetime.now(UTC),
            outcome=AttemptOutcome.DECLINED,
            reason="    DECLINE - Expired card",
        )
        case = await open_dunning_case(missed, await dunning_ports(container))
    finally:
        await container.aclose()
    return case.id


async def _expired_link(config: Path, case_id: int) -> str:
    container = build(load_settings(config))
    try:
        past = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        return sign_link(CardLink(case_id, past, "a" * 32), await link_key(container))
    finally:
        await container.aclose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("card-page")
    port, smtp = free_port(), free_port()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp)
    controller.start()
    try:
        sandboxes, paytrace, d365 = start_sandboxes(workdir)
    except BaseException:
        controller.stop()
        raise
    service: subprocess.Popen | None = None
    try:
        _vault_customer(paytrace, paytrace_token(paytrace))
        posted = httpx.post(
            f"{d365}/_sandbox/invoices",
            json={"customer_account": "US-003", "amount": "42.00"},
            verify=False,
        )
        assert posted.status_code == 201, posted.text
        invoice = posted.json()["invoice"]["InvoiceNumber"]
        config = workdir / "payledger.toml"
        config.write_text(_config(workdir, paytrace, d365, port, smtp))
        in_own_loop(_prepare(config))
        case_id = in_own_loop(_open_case(config, invoice))
        service = start_service(workdir, port)
        built = Stack(
            f"http://127.0.0.1:{port}", config, workdir, paytrace, mailbox, case_id, invoice
        )
        wait_until(lambda: len(mailbox.messages) == 1, "the payment-failed notice was sent")
        yield built
    finally:
        if service is not None:
            _stop(service)
        _stop(sandboxes)
        controller.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium to run the page's tests")
    yield from launched_chromium()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _approved_charges(stack: Stack) -> list[dict[str, Any]]:
    today = datetime.now(UTC)
    reply = httpx.post(
        f"{stack.paytrace}/v1/transactions/export/by_date_range",
        headers={"Authorization": f"Bearer {paytrace_token(stack.paytrace)}"},
        json={
            "integrator_id": INTEGRATOR,
            "start_date": (today - timedelta(days=2)).strftime("%m/%d/%Y"),
            "end_date": (today + timedelta(days=2)).strftime("%m/%d/%Y"),
            "customer_id": CUSTOMER,
        },
    ).json()
    return [t for t in reply.get("transactions", []) if t.get("transaction_type") == "SALE"]


def _unlabelled_inputs(frame: Any) -> list[str]:
    return frame.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
               .map(el => el.id || el.name)"""
    )


def test_the_email_links_to_a_page_that_shows_only_this_invoice(stack, page):
    [mail] = stack.mailbox.messages
    assert mail["Subject"] == f"Payment failed for invoice {stack.invoice}"
    assert mail["To"] == "ap@us-003.example"
    assert mail.get_body(("html",)) is not None

    response = page.goto(stack.link())

    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main").count() == 1
    assert page.locator("#invoice").inner_text() == stack.invoice
    assert page.locator("#amount").inner_text() == "$42.00"
    assert page.locator("#merchant").inner_text() == "Contoso"
    assert "US-003" not in page.content()  # nothing about the customer's account
    fields = page.frame_locator("#pt_hpf_frame").locator("#pt_number")
    fields.wait_for()
    assert _unlabelled_inputs(page.main_frame) == []
    assert _unlabelled_inputs(page.frame(url=lambda u: "protect-fields" in u)) == []


def test_a_new_card_entered_by_keyboard_alone_recovers_the_payment(stack, page):
    sent: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: sent.append((r.url, r.post_data or "")) if r.url.startswith(stack.base) else 0,
    )
    page.goto(stack.link())
    page.frame_locator("#pt_hpf_frame").locator("#pt_number").wait_for()

    page.keyboard.press("Tab")  # into PayTrace's card number field
    page.keyboard.type(NEW_CARD)
    page.keyboard.press("Tab")
    page.keyboard.type("11")
    page.keyboard.press("Tab")
    page.keyboard.type("2031")
    page.keyboard.press("Tab")
    page.keyboard.type("999")
    page.keyboard.press("Tab")  # out of the frame, to the button
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Thank you: your payment went through").wait_for()
    [post] = [data for url, data in sent if data]
    assert NEW_CARD not in post and OLD_CARD not in post
    fields = {name: values[0] for name, values in parse_qs(post).items()}
    opened = open_nonce(fields["hpf_token"], fields["enc_key"])
    assert opened is not None and opened["number"] == NEW_CARD  # Protect's sealed card
    assert all(NEW_CARD not in url for url, _ in sent)
    approved = _approved_charges(stack)
    assert len(approved) == 1 and approved[0]["credit_card"]["masked_number"].endswith("5454")
    wait_until(lambda: len(stack.mailbox.messages) == 2, "the recovered notice was sent")
    assert stack.mailbox.subjects()[1] == f"Payment received for invoice {stack.invoice}"


def test_the_used_link_changes_nothing(stack, page):
    wait_until(lambda: len(_approved_charges(stack)) >= 1, "the card was updated first")
    response = page.goto(stack.link())
    assert response.status == 410
    assert page.get_by_role("heading").inner_text() == "This link was already used"
    assert len(_approved_charges(stack)) == 1


def test_a_tampered_link_changes_nothing(stack, page):
    link = stack.link()
    response = page.goto(link[:-1] + ("a" if link[-1] != "a" else "b"))
    assert response.status == 400
    assert page.get_by_role("heading").inner_text() == "This link is not valid"


def test_an_expired_link_changes_nothing(stack, page):
    token = in_own_loop(_expired_link(stack.config, stack.case_id))
    response = page.goto(f"{stack.base}/pay/{token}")
    assert response.status == 410
    assert page.get_by_role("heading").inner_text() == "This link has expired"


def test_no_card_number_in_the_database_or_the_log(stack):
    scanned = subprocess.run(
        [*PAYLEDGER, "--config", str(stack.config), "scan-pan"],
        cwd=stack.workdir,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
