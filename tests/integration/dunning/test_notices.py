"""Customer notices through the outbox to a real SMTP server (aiosmtpd), on SQLite and
PostgreSQL: what the e-mails say, each sent once (or resent identically after a sender died),
an SMTP outage delays them without losing any, and a customer without an address is an alert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from payledger.adapters.db.tables import dunning_card_links, dunning_notices
from payledger.alerts.smtp import SmtpServer
from payledger.bootstrap.dunning_notices import SmtpMailer
from payledger.domain.card_links import read_link, sign_link
from payledger.domain.card_numbers import find_card_numbers
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import (
    AttemptOutcome,
    CaseSource,
    DeclineClass,
    DunningCase,
    MissedCharge,
    NoticeKind,
    open_case,
)
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.domain.money import Money
from payledger.flows.notices import (
    NO_ADDRESS_ALERT,
    NoticePorts,
    OutboxNotices,
    SendNotices,
    send_notices,
)
from payledger.flows.ports.notices import Contact
from payledger.notices import NoticeTemplates
from payledger.stores.dunning import SqlDunning
from payledger.stores.notices import SqlNoticeOutbox
from tests.fakes_notices import FakeContacts
from tests.fakes_orders import FakeAlerts

DECLINED = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule((1, 3, 5, 7), time(10, 0), "America/Los_Angeles")
KEY = b"link-key-for-tests"
BASE = "https://pay.example.com"
ANN = Contact("Ann <Example> & Co", "ann@example.com")
LEASE = timedelta(minutes=5)


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(_Collect(self), hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        assert self.controller is not None
        self.controller.stop()
        self.controller = None


class _Collect:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.box.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from payledger.bench.postgres import free_port

    box = Mailbox("127.0.0.1", free_port())
    box.start()
    try:
        yield box
    finally:
        if box.controller is not None:
            box.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECLINED)


@dataclass
class Outbox:
    notices: OutboxNotices
    ports: NoticePorts
    cases: SqlDunning
    alerts: FakeAlerts
    contacts: FakeContacts


@pytest.fixture
def outbox(database, clock, mailbox) -> Outbox:
    cases = SqlDunning(database, clock)
    store = SqlNoticeOutbox(database, clock)
    alerts = FakeAlerts()
    contacts = FakeContacts({"US-001": ANN, "US-ES": Contact("Ana", "ana@example.es", "es-MX")})

    async def link_url(link) -> str:
        return f"{BASE}/pay/{sign_link(link, KEY)}"

    server = SmtpServer(mailbox.host, mailbox.port, security="none", timeout=2)
    ports = NoticePorts(
        outbox=store,
        cases=cases,
        contacts=contacts,
        writer=NoticeTemplates(merchant="Contoso", language="en", timezone=SCHEDULE.timezone),
        mailer=SmtpMailer(server, sender="billing@contoso.example", reply_to="ar@contoso.example"),
        alerts=alerts,
        clock=clock,
        link_url=link_url,
    )
    notices = OutboxNotices(store, clock, link_lifetime=timedelta(days=14))
    return Outbox(notices, ports, cases, alerts, contacts)


async def a_case(cases: SqlDunning, account: str = "US-001") -> DunningCase:
    missed = MissedCharge(
        source=CaseSource.AUTO_PAY,
        source_key=f"auto-pay:INV-1:{account}",
        invoice_number="INV-1",
        customer_account=account,
        vault_customer_id="cust-1",
        amount=Money.of("1234.50"),
        at=DECLINED,
        outcome=AttemptOutcome.DECLINED,
        reason="Insufficient funds",
    )
    case, _ = await cases.open(open_case(missed, DeclineClass.SOFT, SCHEDULE), actor="test")
    return case


def send(**options: Any) -> SendNotices:
    return SendNotices(lease=LEASE, **options)


async def test_a_payment_failed_notice_is_an_english_email_with_both_parts_and_the_link(
    outbox, mailbox, clock
):
    case = await a_case(outbox.cases)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)

    report = await send_notices(send(), outbox.ports)

    assert report.outcomes == {"sent": 1}
    [mail] = mailbox.messages
    assert mail["Subject"] == "Payment failed for invoice INV-1"
    assert mail["To"] == "ann@example.com"
    assert mail["From"] == "billing@contoso.example"
    assert mail["Reply-To"] == "ar@contoso.example"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Dear Ann <Example> & Co," in text
    assert "Dear Ann &lt;Example&gt; &amp; Co," in html  # autoescaped
    assert '<html lang="en">' in html
    for part in (text, html):
        assert "$1,234.50" in part
        assert "INV-1" in part
    link = text.split(f"{BASE}/pay/")[1].split()[0]
    assert f'href="{BASE}/pay/{link}"' in html
    assert read_link(link, KEY, clock.now()).case_id == case.id


async def test_a_spanish_customer_gets_spanish_and_recovered_has_no_link(outbox, mailbox):
    case = await a_case(outbox.cases, account="US-ES")
    await outbox.notices.notify(case, NoticeKind.RECOVERED)

    await send_notices(send(), outbox.ports)

    [mail] = mailbox.messages
    assert mail["Subject"] == "Pago recibido de la factura INV-1"
    text = mail.get_body(("plain",)).get_content()
    assert "1.234,50 USD" in text
    assert "/pay/" not in text
    assert '<html lang="es">' in mail.get_body(("html",)).get_content()


async def test_each_step_is_stored_once_and_sent_once(outbox, mailbox, database):
    case = await a_case(outbox.cases)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)  # the step reported again

    await send_notices(send(), outbox.ports)
    again = await send_notices(send(), outbox.ports)

    assert len(mailbox.messages) == 1
    assert again.outcomes == {}
    async with database.transaction() as conn:
        rows = (await conn.execute(select(dunning_notices))).all()
        links = (await conn.execute(select(dunning_card_links))).all()
    assert [(r.kind, r.status, r.recipient) for r in rows] == [
        ("payment_failed", "sent", "ann@example.com")
    ]
    assert len(links) == 1


async def test_message_ids_never_look_like_a_card_number(outbox, database):
    """A Message-ID is stored and logged: the random part is letters, so neither scan-pan nor
    the log redaction can read it as a card (make_msgid's 19 digits pass one time in ten)."""
    for n in range(40):
        case = await a_case(outbox.cases, account=f"US-{n:03d}")
        await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)
    async with database.transaction() as conn:
        ids = [row.message_id for row in (await conn.execute(select(dunning_notices))).all()]
    assert len(ids) == 40
    assert [i for i in ids if find_card_numbers(i)] == []
    assert all(re.fullmatch(r"<[a-p]{24}\.dunning\.\d+\.payment_failed@[\w.-]+>", i) for i in ids)


async def test_a_notice_whose_sender_died_is_resent_with_the_same_message_id(
    outbox, mailbox, clock
):
    case = await a_case(outbox.cases)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)
    # A sender claims the notice, hands it to the server, and is killed before recording it.
    [held] = await outbox.ports.outbox.claim(clock.now(), limit=10, owner="dead", lease=LEASE)
    contact = ANN
    first = outbox.ports.writer.write(case, held, contact, "https://pay.example.com/pay/x")
    await outbox.ports.mailer.send(first)

    within_lease = await send_notices(send(), outbox.ports)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    after_lease = await send_notices(send(), outbox.ports)
    later = await send_notices(send(), outbox.ports)

    assert within_lease.outcomes == {}  # the dead sender's lease still holds it
    assert after_lease.outcomes == {"sent": 1}
    assert later.outcomes == {}
    assert [m["Message-ID"].strip() for m in mailbox.messages] == [held.message_id] * 2


async def test_an_smtp_outage_delays_notices_without_losing_them(outbox, mailbox, clock):
    case = await a_case(outbox.cases)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)
    mailbox.stop()

    down = await send_notices(send(), outbox.ports)
    mailbox.start()
    too_soon = await send_notices(send(), outbox.ports)
    clock.advance(minutes=1)
    back = await send_notices(send(), outbox.ports)

    assert down.outcomes == {"waiting": 1}
    assert "AlertDeliveryError" in down.stopped
    assert too_soon.outcomes == {}  # backing off
    assert back.outcomes == {"sent": 1}
    assert [m["Subject"] for m in mailbox.messages] == ["Payment failed for invoice INV-1"]


async def test_repeated_outages_back_off_and_alert_the_operators(outbox, mailbox, clock):
    case = await a_case(outbox.cases)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)
    mailbox.stop()

    for wait in (1, 2, 4, 8, 16):
        assert (await send_notices(send(), outbox.ports)).outcomes == {"waiting": 1}
        clock.advance(seconds=wait * 60 - 1)
        assert (await send_notices(send(), outbox.ports)).outcomes == {}
        clock.advance(seconds=1)

    assert outbox.alerts.keys() == ["dunning-notice-delayed"]


async def test_a_customer_without_an_address_gets_no_mail_and_the_operators_an_alert(
    outbox, mailbox
):
    outbox.contacts.contacts["US-001"] = Contact("Ann", "")
    case = await a_case(outbox.cases)
    await outbox.notices.notify(case, NoticeKind.PAYMENT_FAILED)

    report = await send_notices(send(), outbox.ports)
    again = await send_notices(send(), outbox.ports)

    assert report.outcomes == {"no_address": 1}
    assert again.outcomes == {}
    assert mailbox.messages == []
    [(key, _title, text, _severity, facts)] = outbox.alerts.sent
    assert key == NO_ADDRESS_ALERT
    assert "US-001" in text
    assert facts["case"] == case.id
