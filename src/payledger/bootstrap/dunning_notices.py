"""Wiring of dunning's customer notices and card-update page: the ``dunning.notices`` job
(outbox → ``[alerts.smtp]`` server), the customers' addresses from D365, the link-signing key
kept in the vault, and the page's ports.

The addresses come from D365 (the customer's ``PrimaryContactEmail``): the ERP keeps the
customer master and the invoice being collected; PayTrace's vault customers are often made
from a sale and have no address.
"""

from __future__ import annotations

import os
import secrets
import ssl
from collections.abc import Awaitable, Callable

import structlog

from payledger.adapters.d365.ledger import D365Ledger
from payledger.adapters.d365.translate import customer_from_d365
from payledger.adapters.paytrace.customers import PayTraceCardOnFile
from payledger.adapters.vault import SecretNotFound
from payledger.alerts.smtp import SmtpServer
from payledger.bootstrap.container import Container
from payledger.bootstrap.dunning import dunning_ports, retry_command, subscription_mirror
from payledger.config import Settings
from payledger.domain.card_links import CardLink, sign_link
from payledger.domain.dunning import DunningCase
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.card_update import CardUpdatePorts
from payledger.flows.dunning import card_updated
from payledger.flows.notices import NoticePorts, SendNotices, send_notices
from payledger.flows.ports.notices import Contact, Email
from payledger.notices import NoticeTemplates, email_message
from payledger.stores.dunning import SqlDunning
from payledger.stores.notices import SEND_NOTICES, SqlCardLinks, SqlNoticeOutbox

log = structlog.get_logger(__name__)

LINK_KEY_SECRET = "dunning-link-key"  # noqa: S105 - a vault name, not a secret
"""The vault secret that signs card-update links, made on first use."""


async def link_key(container: Container) -> bytes:
    """The key that signs card-update links, made and stored in the vault on first use."""
    try:
        value = await container.vault.get(LINK_KEY_SECRET)
    except SecretNotFound:
        await container.vault.set(LINK_KEY_SECRET, secrets.token_urlsafe(48), actor="dunning")
        value = await container.vault.get(LINK_KEY_SECRET)
    return value.get_secret_value().encode()


def merchant_name(settings: Settings) -> str:
    return settings.dunning.notices.merchant_name or settings.d365.company


class D365Contacts:
    """``CustomerContacts`` from D365 customers (their primary e-mail and language)."""

    def __init__(self, ledger: Callable[[], Awaitable[D365Ledger]]) -> None:
        self.ledger = ledger

    async def contact(self, customer_account: str) -> Contact | None:
        row = await (await self.ledger()).customer(customer_account)
        if row is None:
            return None
        customer = customer_from_d365(row)
        language = str(getattr(row, "LanguageId", "") or "")
        return Contact(customer.name, customer.email, language)


class SmtpMailer:
    """``Mailer`` through the ``[alerts.smtp]`` server, from ``[dunning.notices] sender``."""

    def __init__(self, server: SmtpServer, *, sender: str, reply_to: str = "") -> None:
        self.server = server
        self.sender = sender
        self.reply_to = reply_to

    async def send(self, email: Email) -> None:
        message = email_message(email, sender=self.sender, reply_to=self.reply_to)
        await self.server.send(message, sender=self.sender, recipients=[email.to])


async def smtp_server(container: Container) -> SmtpServer:
    mail = container.settings.alerts.smtp
    password = ""
    if mail.username:
        password = (await container.vault.get(mail.password_secret)).get_secret_value()
    return SmtpServer(
        mail.host,
        mail.port,
        security=mail.security,
        username=mail.username,
        password=password,
        timeout=mail.timeout_seconds,
        ssl_context=ssl.create_default_context(cafile=str(mail.ca_file)) if mail.ca_file else None,
    )


def notice_templates(settings: Settings) -> NoticeTemplates:
    notices = settings.dunning.notices
    return NoticeTemplates(
        merchant=merchant_name(settings),
        language=notices.language,
        timezone=settings.dunning.timezone,
        folder=notices.templates_dir,
    )


async def notice_ports(container: Container) -> NoticePorts:
    """What sending notices works with (the SMTP password is read from the vault here)."""
    notices = container.settings.dunning.notices
    base = notices.public_base_url

    async def link_url(link: CardLink) -> str:
        return f"{base}/pay/{sign_link(link, await link_key(container))}"

    return NoticePorts(
        outbox=SqlNoticeOutbox(container.database, container.clock),
        cases=SqlDunning(container.database, container.clock),
        contacts=D365Contacts(container.d365_ledger),
        writer=notice_templates(container.settings),
        mailer=SmtpMailer(
            await smtp_server(container), sender=notices.sender, reply_to=notices.reply_to
        ),
        alerts=container.alerts,
        clock=container.clock,
        link_url=link_url,
    )


def send_notices_job(container: Container) -> Handler:
    """One send run per job: every due notice sent once (an outage puts them back)."""

    async def send(job: Job) -> None:
        command = SendNotices(
            max_per_run=container.settings.dunning.notices.max_per_run,
            owner=f"job-{job.id}:{os.getpid()}",
        )
        report = await send_notices(command, await notice_ports(container))
        log.info("dunning.notices_sent", outcomes=report.outcomes, stopped=report.stopped or None)

    return send


def notices_schedule(_settings: Settings) -> Schedule:
    """Every minute: notices put back after an outage go out once their wait is over."""
    return Schedule(
        name="dunning-notices", cron="* * * * *", job_kind=SEND_NOTICES, ordering_key=SEND_NOTICES
    )


async def card_update_ports(container: Container) -> CardUpdatePorts:
    """The card-update page's ports: a new card is kept in PayTrace's vault, then the case is
    retried at once (``flows.dunning.card_updated``)."""
    settings = container.settings

    async def key() -> bytes:
        return await link_key(container)

    async def retry(case_id: int) -> DunningCase:
        ports = await dunning_ports(container, mirror=await subscription_mirror(container))
        return await card_updated(case_id, ports, retry_command(settings, owner="card-update"))

    return CardUpdatePorts(
        links=SqlCardLinks(container.database, container.clock),
        cases=SqlDunning(container.database, container.clock),
        vault=PayTraceCardOnFile(await container.paytrace_client()),
        key=key,
        retry=retry,
        clock=container.clock,
        merchant=merchant_name(settings),
        max_posts=settings.dunning.notices.max_card_posts,
    )


async def protect_client_key(container: Container) -> str:
    """A Protect.js client key for one showing of the page."""
    return await (await container.paytrace_client()).protect_client_key()
