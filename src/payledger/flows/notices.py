"""Customer notices of dunning: stored by the step that decided on them, sent later by a job.

- **Stored once**: :class:`OutboxNotices` (the ``DunningNotices`` port) writes the notice of a
  case's last attempt under a unique (case, kind, attempt number) key, with its Message-ID and
  its card-update link chosen then; a second notify of the same step stores nothing.
- **Sent once, or resent identically**: :func:`send_notices` leases each due notice
  (``sending``) before the mail server is called. A sender that dies there leaves the outcome
  unknown; when its lease lapses the notice is sent again *with the same Message-ID and link*
  (a mail store that already has the message keeps one), and the resend is logged. A notice
  that never arrives costs the merchant the payment; an identical second copy costs nothing.
- **An outage delays, never loses**: an unreachable mail server or ERP puts the notice back
  (pending, tried again after a backoff) and stops the run; the next run goes on.
- A customer without an e-mail address gets none; the operators get an alert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from payledger.domain.card_links import CardLink, new_link, random_letters
from payledger.domain.clock import Clock
from payledger.domain.dunning import DunningCase, NoticeKind
from payledger.domain.errors import PayLedgerError
from payledger.flows.ports import DunningStore, OperatorAlerts
from payledger.flows.ports.notices import (
    CustomerContacts,
    Mailer,
    Notice,
    NoticeOutbox,
    NoticeWriter,
)

log = structlog.get_logger(__name__)

NO_ADDRESS_ALERT = "dunning-notice-no-address"
DELAYED_ALERT = "dunning-notice-delayed"


class OutboxNotices:
    """``DunningNotices``: the notice is stored (with its link) and a send job woken."""

    def __init__(
        self,
        outbox: NoticeOutbox,
        clock: Clock,
        *,
        link_lifetime: timedelta,
        message_domain: str = "payledger",
    ) -> None:
        self.outbox = outbox
        self.clock = clock
        self.link_lifetime = link_lifetime
        self.message_domain = message_domain

    async def notify(self, case: DunningCase, notice: NoticeKind) -> None:
        link = None
        if notice is not NoticeKind.RECOVERED:
            link = new_link(case.id, self.clock.now() + self.link_lifetime)
        # Not email.utils.make_msgid: its 19 random digits pass as a card number one time in
        # ten, and scan-pan and the log redaction then flag a harmless Message-ID.
        unique = random_letters(12)
        message_id = f"<{unique}.dunning.{case.id}.{notice.value}@{self.message_domain}>"
        if await self.outbox.add(case, notice, message_id=message_id, link=link):
            log.info("dunning.notice_queued", case=case.id, notice=notice.value)


@dataclass(frozen=True)
class SendNotices:
    """One send run."""

    max_per_run: int = 50
    owner: str = "notices"
    lease: timedelta = timedelta(minutes=5)
    """How long a sender holds a notice: after it the outcome counts as unknown."""
    backoff: timedelta = timedelta(minutes=1)
    """The wait after a first failed send; doubled each time, up to ``backoff_cap``."""
    backoff_cap: timedelta = timedelta(hours=1)
    delayed_alert_after: int = 5
    """Alert the operators once a notice failed this many sends."""


@dataclass(frozen=True)
class NoticePorts:
    outbox: NoticeOutbox
    cases: DunningStore
    contacts: CustomerContacts
    writer: NoticeWriter
    mailer: Mailer
    alerts: OperatorAlerts
    clock: Clock
    link_url: Callable[[CardLink], Awaitable[str]]
    """The address of the card-update page a link opens (it is signed there)."""


@dataclass
class SendReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    """Notices by outcome: ``sent``, ``no_address``, ``waiting`` (put back)."""
    stopped: str = ""
    """Why the run stopped early (an outage), if it did."""


async def send_notices(cmd: SendNotices, ports: NoticePorts) -> SendReport:
    """Send every due notice once; on an outage put them back and stop."""
    claimed = await ports.outbox.claim(
        ports.clock.now(), limit=cmd.max_per_run, owner=cmd.owner, lease=cmd.lease
    )
    report = SendReport()
    for notice in claimed:
        if report.stopped:
            await ports.outbox.later(notice.id, error=report.stopped, at=ports.clock.now())
            outcome = "waiting"
        else:
            outcome = await _send(notice, cmd, ports, report)
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    return report


async def _send(notice: Notice, cmd: SendNotices, ports: NoticePorts, report: SendReport) -> str:
    case = await ports.cases.get(notice.case_id)
    assert case is not None  # a notice is stored for a stored case, and cases stay
    try:
        contact = await ports.contacts.contact(case.customer_account)
        if contact is None or not contact.email.strip():
            await _no_address(notice, case, ports)
            return "no_address"
        link = await ports.link_url(notice.link) if notice.link else ""
        email = ports.writer.write(case, notice, contact, link)
        if notice.resumed:
            log.warning("dunning.notice_resent", case=case.id, notice=notice.kind.value)
        await ports.mailer.send(email)
    except PayLedgerError as exc:
        error = f"{type(exc).__name__}: {exc}"
        report.stopped = error
        await _later(notice, case, error, cmd, ports)
        return "waiting"
    await ports.outbox.sent(notice.id, to=contact.email)
    log.info("dunning.notice_sent", case=case.id, notice=notice.kind.value)
    return "sent"


async def _later(
    notice: Notice, case: DunningCase, error: str, cmd: SendNotices, ports: NoticePorts
) -> None:
    failures = notice.tries + 1
    wait = min(cmd.backoff * 2 ** (failures - 1), cmd.backoff_cap)
    await ports.outbox.later(notice.id, error=error, at=ports.clock.now() + wait)
    if failures == cmd.delayed_alert_after:
        await ports.alerts.notify(
            DELAYED_ALERT,
            "Customer notices are not going out",
            f"The {notice.kind.value} notice of dunning case {case.id} (invoice "
            f"{case.invoice_number}) failed {failures} times: {error}. It stays queued and is "
            "tried again; check the mail server ([alerts.smtp]) and the ERP.",
            facts={"case": case.id, "notice": notice.kind.value, "error": error},
        )


async def _no_address(notice: Notice, case: DunningCase, ports: NoticePorts) -> None:
    await ports.outbox.no_address(notice.id)
    log.warning("dunning.notice_no_address", case=case.id, notice=notice.kind.value)
    await ports.alerts.notify(
        NO_ADDRESS_ALERT,
        "A customer could not be told about a missed payment",
        f"Customer {case.customer_account} has no e-mail address, so the {notice.kind.value} "
        f"notice of dunning case {case.id} (invoice {case.invoice_number}) was not sent. "
        "Contact the customer another way, and add their address in the ERP.",
        facts={"case": case.id, "customer": case.customer_account, "notice": notice.kind.value},
    )
