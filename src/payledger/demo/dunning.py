"""The demo's dunning: two declined subscription charges, both recovered.

Two customers sign up for a monthly plan whose first charge PayTrace declines: one with
"Insufficient funds" (soft: retried by the ``dunning.retry`` flow with its clock at day 1
10:00 local, and approved), one with an expired card (hard: the customer follows the link in
the e-mail to the card-update page, enters a new card in PayTrace Protect's fields, and the
charge is retried at once). Notices go to an in-process SMTP server; D365's collections status
is set and restored. The proof is read from the sandboxes, the mailbox, the database and the
log: both cases recovered, one approved charge per invoice, no card data anywhere.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiosmtpd.controller import Controller
from rich.table import Table

from payledger.adapters.db.scan import scan_database, stored_card_data
from payledger.adapters.paytrace import PayTraceEncryptedCard
from payledger.bench.postgres import free_port
from payledger.bootstrap import Container
from payledger.bootstrap.dunning import dunning_ports, retry_command, subscription_mirror
from payledger.bootstrap.subscriptions import bill_command, billing_ports, change_ports
from payledger.demo.stage import Stage
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import CaseStatus, DunningCase
from payledger.flows.bill_subscriptions import bill_subscriptions
from payledger.flows.change_subscription import CreateSubscription, create_subscription
from payledger.flows.dunning import retry_due
from payledger.sandbox.paytrace import encrypt_field
from payledger.sandbox.paytrace.cards import CustomerDeclines
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.sandbox.paytrace.protect import protect_nonce
from payledger.sandbox.paytrace.records import TxnStatus
from payledger.stores.dunning import SqlDunning
from payledger.web.app import create_app
from payledger.web.serving import QuietSignalsServer, config

Say = Callable[[str], None]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
NEW_CARD = TEST_CARD_NUMBERS[2]
SOFT_DECLINE = "    NSF - Insufficient funds"
HARD_DECLINE = "  EXPIRED CARD - Expired card"


@dataclass(frozen=True)
class Missed:
    name: str
    customer: str
    vault_customer: str
    amount: str
    decline: str


MISSED = (
    Missed("soft", "US-003", "dun-demo-soft", "59.00", SOFT_DECLINE),
    Missed("hard", "US-001", "dun-demo-hard", "89.00", HARD_DECLINE),
)


@dataclass
class Mailbox:
    """The SMTP server's catch: subject and plain-text body of each message."""

    messages: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed: Any = message_from_bytes(envelope.original_content, policy=policy.default)
        body = parsed.get_body(("plain",))
        self.messages.append((str(parsed["Subject"]), body.get_content() if body else ""))
        return "250 OK"

    def about(self, invoice: str) -> list[tuple[str, str]]:
        return [m for m in self.messages if invoice in m[0]]


@dataclass(frozen=True)
class Outside:
    """What the demo's dunning talks to besides the sandboxes: the mailbox, and where
    payledger's web app (the card-update page) is served."""

    mailbox: Mailbox
    smtp_port: int
    web_port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[Outside]:
    """An in-process SMTP server on a free loopback port (the web port is chosen here too)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Outside(mailbox, port, free_port())
    finally:
        controller.stop()


@dataclass
class DemoCase:
    missed: Missed
    case: DunningCase | None = None
    invoice: str = ""
    notices: list[str] = field(default_factory=list)
    approved_charges: int = 0
    collections: str = ""
    """D365's collections status afterwards ("" : restored)."""
    collections_notes: list[str] = field(default_factory=list)

    @property
    def recovered(self) -> bool:
        return self.case is not None and self.case.status is CaseStatus.RECOVERED

    @property
    def ok(self) -> bool:
        return (
            self.recovered
            and self.approved_charges == 1
            and self.notices[:1] == ["payment_failed"]
            and self.notices[-1:] == ["recovered"]
            and self.collections == ""
            and any(n.endswith(":past_due") for n in self.collections_notes)
            and any(n.endswith(":undone") for n in self.collections_notes)
        )


@dataclass
class DunningDemo:
    cases: list[DemoCase] = field(default_factory=list)
    card_update_by: str = ""
    """How the new card was entered: the browser, or the page's form posted directly."""
    card_data: list[str] = field(default_factory=list)
    """Card data found in payledger's database or log (must stay empty)."""
    seconds: float = 0.0

    @property
    def recovered(self) -> Decimal:
        return sum((Decimal(c.missed.amount) for c in self.cases if c.recovered), Decimal(0))

    @property
    def missed(self) -> Decimal:
        return sum((Decimal(c.missed.amount) for c in self.cases), Decimal(0))

    @property
    def doubled(self) -> list[str]:
        return [c.invoice for c in self.cases if c.approved_charges > 1]

    @property
    def ok(self) -> bool:
        return bool(self.cases) and all(c.ok for c in self.cases) and not self.card_data


async def recover_revenue(
    container: Container, stage: Stage, outside: Outside, say: Say
) -> DunningDemo:
    """Two declined subscription charges, opened as cases and recovered."""
    started = time.monotonic()
    result = DunningDemo([DemoCase(m) for m in MISSED])
    server = QuietSignalsServer(
        config(create_app(container, embedded_worker=False), "127.0.0.1", outside.web_port)
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                raise RuntimeError("payledger's web app failed to start")
            await asyncio.sleep(0.02)
        await _decline_first_charges(container, stage, result, say)
        await _wait_for_notices(outside.mailbox, result, "payment_failed")
        soft, hard = result.cases
        await _retry_on_day_one(container, soft, say)
        result.card_update_by = await _update_card(outside, hard, say)
        await _wait_for_notices(outside.mailbox, result, "recovered")
        await _read_back(container, stage, outside.mailbox, result)
    finally:
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
    result.seconds = time.monotonic() - started
    return result


async def _decline_first_charges(
    container: Container, stage: Stage, result: DunningDemo, say: Say
) -> None:
    paytrace = await container.paytrace_client()
    card = PayTraceEncryptedCard(
        encrypted_number=encrypt_field(TEST_CARD_NUMBERS[1]),
        expiration_month=12,
        expiration_year=2030,
    )
    tz = ZoneInfo(container.settings.subscriptions.timezone)
    today = container.clock.now().astimezone(tz).date()
    changes = await change_ports(container, charge_upgrades=False)
    ids: dict[int, DemoCase] = {}
    for item in result.cases:
        m = item.missed
        await paytrace.create_customer(m.vault_customer, card=card)
        stage.paytrace.state.customer_declines[m.vault_customer] = CustomerDeclines(m.decline, 1)
        created = await create_subscription(
            CreateSubscription(
                customer_account=m.customer,
                amount=Decimal(m.amount),
                currency="USD",
                description=f"Demo support plan ({m.name} decline)",
                actor="demo",
                unit="month",
                anchor=today,
                vault_customer_id=m.vault_customer,
            ),
            changes,
        )
        ids[created.id] = item
    say(
        "dunning: 2 subscriptions billed today; PayTrace declines one 'Insufficient funds' "
        "(soft), the other 'Expired card' (hard)"
    )
    billing = await billing_ports(container)
    await bill_subscriptions(bill_command(container.settings, owner="demo-dunning"), billing)
    store = SqlDunning(container.database, container.clock)
    for sub_id, item in ids.items():
        [entry] = await billing.store.entries(sub_id)
        item.invoice = entry.invoice_number
        item.case = await store.active_for_invoice(entry.invoice_number)
        if item.case is None:
            raise RuntimeError(f"no dunning case for {entry.invoice_number} ({entry.status})")


async def _retry_on_day_one(container: Container, item: DemoCase, say: Say) -> None:
    case = item.case
    assert case is not None and case.next_attempt_at is not None
    tz = ZoneInfo(container.settings.dunning.timezone)
    due = case.next_attempt_at.astimezone(tz)
    clock = ManualClock(case.next_attempt_at + timedelta(minutes=1))
    ports = await dunning_ports(container, mirror=await subscription_mirror(container))
    ports = replace(ports, store=SqlDunning(container.database, clock), clock=clock)
    say(
        f"the dunning.retry run with the clock at {due:%a %b %d %H:%M} local retries case {case.id}"
    )
    await retry_due(retry_command(container.settings, owner="demo-dunning"), ports)
    item.case = await ports.store.get(case.id)


async def _update_card(outside: Outside, item: DemoCase, say: Say) -> str:
    link = _link(outside, item)
    if _browser_available():
        say("the customer opens the e-mail's link in Chromium and types a new card")
        await _in_the_browser(link)
        return "Chromium (Playwright), in Protect's fields"
    say("no Chromium here: the page's form is posted with a Protect-encrypted test card")
    await _post_the_form(link)
    return "posting the page's form (no Chromium)"


def _browser_available() -> bool:
    return CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None


def _link(outside: Outside, item: DemoCase) -> str:
    for _subject, text in outside.mailbox.about(item.invoice):
        for word in text.split():
            if word.startswith(f"{outside.base_url}/pay/"):
                return word
    raise RuntimeError(f"no card-update link in the e-mail about {item.invoice}")


async def _in_the_browser(link: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(20_000)
            await page.goto(link)
            await page.frame_locator("#pt_hpf_frame").locator("#pt_number").wait_for()
            for key, text in (("Tab", NEW_CARD), ("Tab", "11"), ("Tab", "2031"), ("Tab", "999")):
                await page.keyboard.press(key)
                await page.keyboard.type(text)
            await page.keyboard.press("Tab")
            await page.keyboard.press("Enter")
            await page.get_by_role(
                "heading", name="Thank you: your payment went through"
            ).wait_for()
        finally:
            await browser.close()


async def _post_the_form(link: str) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        page = await http.get(link)
        page.raise_for_status()
        found = re.search(r'name="form" value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError("the card-update page has no form")
        nonce = protect_nonce(NEW_CARD, 11, 2031, "999")
        answer = await http.post(
            link,
            data={"form": found[1], "hpf_token": nonce.hpf_token, "enc_key": nonce.enc_key},
        )
        if "Thank you: your payment went through" not in answer.text:
            raise RuntimeError(f"the card-update page answered {answer.status_code}")


async def _wait_for_notices(mailbox: Mailbox, result: DunningDemo, subject: str) -> None:
    """Until each case has an e-mail whose subject names ``subject`` (notice kind)."""
    words = {"payment_failed": "Payment failed", "recovered": "Payment received"}[subject]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(any(words in s for s, _ in mailbox.about(c.invoice)) for c in result.cases):
            return
        await asyncio.sleep(0.1)


async def _read_back(
    container: Container, stage: Stage, mailbox: Mailbox, result: DunningDemo
) -> None:
    store = SqlDunning(container.database, container.clock)
    kinds = {"Payment failed": "payment_failed", "Payment received": "recovered"}
    async with httpx.AsyncClient(base_url=stage.d365_url, verify=str(stage.certificate)) as d365:
        customers = (
            await d365.get("/_sandbox/state/CustomersV3", params={"company": "usmf"})
        ).json()["value"]
        notes = (await d365.get("/_sandbox/state/CustomerCollectionsNotes")).json()["value"]
    for item in result.cases:
        assert item.case is not None
        case_id = item.case.id
        item.case = await store.get(case_id)
        item.notices = [
            kind for subject, _ in mailbox.about(item.invoice)
            for words, kind in kinds.items() if words in subject
        ]  # fmt: skip
        item.approved_charges = sum(
            t.details.get("invoice_id") == item.invoice and t.status is not TxnStatus.DECLINED
            for t in stage.paytrace.state.transactions.values()
        )
        [row] = [c for c in customers if c["CustomerAccount"] == item.missed.customer]
        item.collections = str(row.get("PayTraceCollectionStatus", ""))
        prefix = f"payledger:dunning:{case_id}:"
        item.collections_notes = [
            str(n["Reference"]) for n in notes if str(n["Reference"]).startswith(prefix)
        ]


async def scan_card_data(container: Container, log_file: Path | None) -> list[str]:
    """``payledger scan-pan`` over the demo's database and log: where card data was found."""
    hits = [f"{hit.place}: {hit.what}" async for hit in scan_database(container.database)]
    if log_file is not None:
        hits += await asyncio.to_thread(_scan_log, log_file)
    return hits


def _scan_log(log_file: Path) -> list[str]:
    if not log_file.exists():
        return []
    hits = []
    with log_file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if found := stored_card_data(line):
                hits.append(f"{log_file}:{number}: {', '.join(found)}")
    return hits


def dunning_table(result: DunningDemo) -> Table:
    """One column per case (its rows: customer, invoice, ..., notices sent)."""
    verdict = (
        "every case recovered, each invoice charged once"
        if result.ok
        else "[red]a case was not recovered, a charge doubled, or card data kept[/red]"
    )
    table = Table(
        "case",
        *(_case_id(c) for c in result.cases),
        title=f"dunning in {result.seconds:.1f} s: {verdict}",
    )
    for label, cell in (
        ("customer", lambda c: c.missed.customer),
        ("invoice", lambda c: c.invoice or "—"),
        ("amount", lambda c: f"{Decimal(c.missed.amount):,.2f}"),
        ("decline", lambda c: _decline(c)[0]),
        ("class", lambda c: _decline(c)[1]),
        ("attempts", lambda c: str(len(c.case.attempts)) if c.case else "0"),
        ("outcome", lambda c: c.case.status.value if c.case else "not opened"),
        ("notices sent", lambda c: ", ".join(c.notices) or "none"),
        ("D365 collections", _collections),
    ):
        table.add_row(label, *(cell(c) for c in result.cases))
    table.caption = (
        f"revenue recovered: {result.recovered:,.2f} of {result.missed:,.2f}; "
        f"new card entered by {result.card_update_by or '—'}; "
        f"doubled charges {len(result.doubled)}; card data found {len(result.card_data)}"
    )
    return table


def _case_id(item: DemoCase) -> str:
    return str(item.case.id) if item.case else "—"


def _decline(item: DemoCase) -> tuple[str, str]:
    """The first decline's processor text (its last phrase) and its class."""
    if item.case is None or not item.case.attempts:
        return "—", "—"
    first = item.case.attempts[0]
    phrases = [p.strip() for p in re.split(r"[:.]| - ", first.reason) if p.strip()]
    text = phrases[-1] if phrases else "—"
    return text, first.decline_class.value if first.decline_class else "—"


def _collections(item: DemoCase) -> str:
    stages = [n.rsplit(":", 1)[-1] for n in item.collections_notes]
    steps = " → ".join(stages) or "nothing"
    return steps if not item.collections else f"{steps} (still {item.collections})"
