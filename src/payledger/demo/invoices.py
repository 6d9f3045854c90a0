"""The demo's collections and its night: invoices charged, journals posted, invoices settled.

Finance charges open D365 invoices through payledger's API (``POST /api/v1/payments``), one
in full, one in part and one in two parts. At night the day's customer payment journals close
to new lines and payledger posts them (``[posting] post = "when_balanced"``); then each
invoice's open amount is read back from D365, where posting settled what the lines marked.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
from rich.table import Table

from payledger.bootstrap import Container
from payledger.bootstrap.journals import d365_journal_poster, journal_book, post_command
from payledger.demo.shop_orders import protect_card
from payledger.demo.stage import Stage
from payledger.domain.clock import ManualClock
from payledger.domain.posting import JournalState
from payledger.flows.post_ready_journals import Parts, post_ready_journals
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app

Say = Callable[[str], None]

INVOICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("US-001", "240.00", ("240.00",)),
    ("US-003", "500.00", ("200.00",)),
    ("US-006", "300.00", ("100.00", "50.00")),
)
"""Customer, invoice total and the charges finance makes on it."""


@dataclass
class ChargedInvoice:
    number: str
    customer: str
    total: Decimal
    charged: Decimal = Decimal(0)
    open_in_d365: Decimal | None = None
    """What D365 shows still open after the night's posting (None: not read)."""

    @property
    def expected_open(self) -> Decimal:
        return self.total - self.charged

    @property
    def settled(self) -> bool:
        return self.open_in_d365 == self.expected_open


@dataclass
class Collections:
    invoices: list[ChargedInvoice] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """HTTP status of each charge."""
    journals_posted: int = 0
    journals_left: list[str] = field(default_factory=list)
    """Journals with lines that are not posted after the night, with their state."""

    @property
    def ok(self) -> bool:
        return (
            all(code == 201 for code in self.answers)
            and not self.journals_left
            and self.journals_posted > 0
            and all(invoice.settled for invoice in self.invoices)
        )


async def charge_invoices(container: Container, stage: Stage, say: Say) -> Collections:
    """Post the invoices in D365, then charge them through payledger's payments API."""
    result = Collections()
    async with httpx.AsyncClient(base_url=stage.d365_url, verify=str(stage.certificate)) as d365:
        for customer, total, _ in INVOICES:
            answer = await d365.post(
                "/_sandbox/invoices", json={"customer_account": customer, "amount": total}
            )
            answer.raise_for_status()
            number = answer.json()["invoice"]["InvoiceNumber"]
            result.invoices.append(ChargedInvoice(number, customer, Decimal(total)))
    async with container.database.transaction() as conn:
        token = await ApiClients(container.clock).issue(
            conn, "demo-finance", ["payments:write", "read"], actor="demo"
        )
    say("finance collects 3 D365 invoices through the API: one in full, one in part, one twice")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(container, embedded_worker=False)),
        base_url="http://payledger.demo",
        headers={"Authorization": f"Bearer {token.secret}"},
    ) as http:
        for invoice, (_, _, charges) in zip(result.invoices, INVOICES, strict=True):
            for amount in charges:
                body = {
                    "invoice": invoice.number,
                    "amount": amount,
                    "payment_method": {"type": "protect", **_protect()},
                }
                answer = await http.post(
                    "/api/v1/payments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
                result.answers.append(answer.status_code)
                if answer.status_code == 201:
                    invoice.charged += Decimal(amount)
    return result


def _protect() -> dict[str, str]:
    card: dict[str, str] = protect_card(random.Random(5))["protect"]
    return card


async def post_the_night(container: Container, result: Collections, say: Say) -> None:
    """Close and post the day's journals as the ``journal.post`` job does the next morning,
    then read each invoice's open amount back from D365."""
    cmd = post_command(container)
    tz = ZoneInfo(cmd.timezone)
    today = container.clock.now().astimezone(tz).date()
    morning = datetime.combine(today + timedelta(days=1), time(0), tz) + cmd.close_after
    say(f"night: the day's journals close and payledger posts them ({cmd.mode.value})")
    poster = await d365_journal_poster(container)
    parts = Parts(journal_book(container), poster, container.alerts)
    clock = ManualClock(morning + timedelta(minutes=1))
    await post_ready_journals(cmd, parts, clock=clock)
    for seen in await journal_book(container).overview(limit=100):
        journal = seen.journal
        if journal.state is JournalState.POSTED:
            result.journals_posted += 1
        elif seen.contents.lines:
            result.journals_left.append(f"{journal.batch_number} {journal.state.value}")
    open_amounts = await poster.open_invoice_amounts([i.number for i in result.invoices])
    for invoice in result.invoices:
        invoice.open_in_d365 = open_amounts.get(invoice.number)


def collections_table(result: Collections) -> Table:
    title = (
        f"the night: {result.journals_posted} journal(s) posted in D365, invoices settled"
        if result.ok
        else "[red]the night: journals or invoices not as expected[/red]"
    )
    table = Table("invoice", "customer", "total", "charged", "open in D365", "settled", title=title)
    for invoice in result.invoices:
        table.add_row(
            invoice.number,
            invoice.customer,
            f"{invoice.total:,.2f}",
            f"{invoice.charged:,.2f}",
            "?" if invoice.open_in_d365 is None else f"{invoice.open_in_d365:,.2f}",
            "yes" if invoice.settled else f"[red]NO[/red] (expected {invoice.expected_open:,.2f})",
        )
    return table
