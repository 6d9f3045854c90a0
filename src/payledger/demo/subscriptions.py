"""The demo's recurring billing: five subscriptions billed across a month boundary.

Finance signs up five customers on the 15th of a 31-day month through payledger's change flow
(monthly on the 31st, on the 1st and on the 15th, a yearly one, one in a trial until the 1st).
The billing run (the ``subscriptions.bill`` job's flow) then runs with the clock on the 15th,
twice on the 31st and twice on the 1st of the next month: each period that came due is
invoiced in D365 as a free-text invoice and charged at PayTrace once, and its payment reaches
D365 through the ledger loop. The proof is read from the sandboxes: one invoice, one charge
and one payment line per period, and no period missed.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.table import Table

from payledger.adapters.paytrace import PayTraceEncryptedCard
from payledger.bench.billing_proof import BillingProof, judge
from payledger.bootstrap import Container
from payledger.bootstrap.subscriptions import bill_command, billing_ports, change_ports
from payledger.demo.stage import Stage
from payledger.domain.clock import ManualClock
from payledger.domain.subscriptions_billing import BillingEntry
from payledger.flows.bill_subscriptions import bill_subscriptions
from payledger.flows.change_subscription import CreateSubscription, create_subscription
from payledger.sandbox.paytrace import encrypt_field
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.stores.subscriptions import SqlSubscriptions

Say = Callable[[str], None]


@dataclass(frozen=True)
class Signup:
    name: str
    customer: str
    amount: str
    unit: str
    anchor_day: int
    """Day of the anchor: in the demo month, or (``next_month``) in the month after."""
    next_month: bool = False
    trial: bool = False
    """In a trial until the 1st of the next month (periods before it are not charged)."""


SIGNUPS = (
    Signup("monthly on the 31st", "US-001", "49.00", "month", 31),
    Signup("monthly on the 1st", "US-002", "19.90", "month", 1, next_month=True),
    Signup("monthly on the 15th", "US-003", "120.00", "month", 15),
    Signup("yearly on the 1st", "US-004", "990.00", "year", 1, next_month=True),
    Signup("trial until the 1st", "US-005", "29.00", "month", 1, trial=True),
)


@dataclass
class BilledPeriod:
    subscription: str
    entry: BillingEntry


@dataclass
class MonthBoundary:
    month: date
    """The first day of the demo's 31-day month."""
    ids: dict[str, int] = field(default_factory=dict)
    """Subscription id by signup name."""
    runs: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    """Each billing run: the clock's day and its outcomes."""
    periods: list[BilledPeriod] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    """The invoice keys of the periods that must be billed once."""
    proof: BillingProof | None = None

    @property
    def ok(self) -> bool:
        billed = {period.entry.invoice_key for period in self.periods}
        return self.proof is not None and self.proof.ok and billed == set(self.expected)


def demo_month(today: date) -> date:
    """The latest 31-day month that is over by ``today``."""
    first = today.replace(day=1)
    while True:
        first = (first - timedelta(days=1)).replace(day=1)
        if calendar.monthrange(first.year, first.month)[1] == 31:
            return first


def _next_month(first: date) -> date:
    return (first + timedelta(days=31)).replace(day=1)


async def bill_month_boundary(container: Container, stage: Stage, say: Say) -> MonthBoundary:
    """Sign the five up on the 15th, then run billing on the 15th, the 31st and the 1st."""
    tz = ZoneInfo(container.settings.subscriptions.timezone)
    month = demo_month(container.clock.now().astimezone(tz).date())
    result = MonthBoundary(month)
    clock = ManualClock(_at(month.replace(day=15), tz, hour=9))
    store = SqlSubscriptions(container.database, clock)
    changes = replace(
        await change_ports(container, charge_upgrades=False), store=store, clock=clock
    )
    await _vault_cards(container)
    say(f"recurring billing: 5 subscriptions signed up on {month:%b} 15 (payledger's change flow)")
    for n, signup in enumerate(SIGNUPS):
        anchor_month = _next_month(month) if signup.next_month or signup.trial else month
        anchor = anchor_month.replace(day=signup.anchor_day)
        if signup.trial:
            anchor = month.replace(day=1)
        created = await create_subscription(
            CreateSubscription(
                customer_account=signup.customer,
                amount=Decimal(signup.amount),
                currency="USD",
                description=f"Demo plan, {signup.name}",
                actor="demo",
                unit=signup.unit,
                anchor=anchor,
                vault_customer_id=f"sub-demo-{n}",
                trial_end=_next_month(month) if signup.trial else None,
            ),
            changes,
        )
        result.ids[signup.name] = created.id
    billing = replace(await billing_ports(container), store=store, clock=clock)
    command = bill_command(container.settings, owner="demo")
    days = [month.replace(day=15), month.replace(day=31), _next_month(month)]
    for day in (days[0], days[1], days[1], days[2], days[2]):
        clock.advance(seconds=(_at(day, tz, hour=0, minute=5) - clock.now()).total_seconds())
        report = await bill_subscriptions(command, billing)
        result.runs.append((f"{day:%b %d}", dict(report.outcomes)))
        clock.advance(hours=1)
    say(
        "billing runs on the 15th, twice on the 31st and twice on the 1st: "
        + "; ".join(f"{day} {outs or 'nothing due'}" for day, outs in result.runs)
    )
    for name, sub_id in result.ids.items():
        for entry in await store.entries(sub_id):
            result.periods.append(BilledPeriod(name, entry))
    result.expected = _expected(result)
    return result


def _expected(result: MonthBoundary) -> list[str]:
    """Due by the 1st: period 0 of all but the trial, whose first paid period is period 1."""
    return [
        f"SUB-{sub_id}-P{1 if name == 'trial until the 1st' else 0}"
        for name, sub_id in result.ids.items()
    ]


def _at(day: date, tz: ZoneInfo, *, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)


async def _vault_cards(container: Container) -> None:
    paytrace = await container.paytrace_client()
    card = PayTraceEncryptedCard(
        encrypted_number=encrypt_field(TEST_CARD_NUMBERS[1]),
        expiration_month=12,
        expiration_year=2030,
    )
    for n in range(len(SIGNUPS)):
        await paytrace.create_customer(f"sub-demo-{n}", card=card)


async def check_month_boundary(result: MonthBoundary, stage: Stage) -> None:
    """Once the day's payments are posted: count each period's invoices, charges and payment
    lines in the sandboxes."""
    async with httpx.AsyncClient(base_url=stage.d365_url, verify=str(stage.certificate)) as d365:
        invoices = await _rows(d365, "/_sandbox/state/FreeTextInvoiceHeaders")
        lines = await _rows(d365, "/_sandbox/state/CustomerPaymentJournalLines")
    async with httpx.AsyncClient(base_url=stage.paytrace_url) as paytrace:
        answer = await paytrace.get("/_sandbox/state")
        answer.raise_for_status()
        transactions: list[dict[str, Any]] = answer.json()["transactions"]
    keys = {e.entry.invoice_key for e in result.periods} | set(result.expected)
    result.proof = judge(sorted(keys), invoices, lines, transactions, key_field="CustomerReference")


async def _rows(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    answer = await client.get(path, params={"company": "usmf"})
    answer.raise_for_status()
    rows: list[dict[str, Any]] = answer.json()["value"]
    return rows


def month_table(result: MonthBoundary) -> Table:
    proof = result.proof
    verdict = (
        "each period invoiced, charged and posted once"
        if result.ok
        else "[red]a period was doubled or missed[/red]"
    )
    table = Table(
        "subscription",
        "period",
        "invoice",
        "amount",
        "PayTrace txn",
        "status",
        title=f"recurring billing across {result.month:%b} 31 → 1: {verdict}",
    )
    for billed in result.periods:
        e = billed.entry
        table.add_row(
            billed.subscription,
            f"{e.period.index}: {e.period.starts_on} → {e.period.ends_on}",
            e.invoice_number or "—",
            f"{e.total.amount:,.2f}",
            e.gateway_txn_id or "—",
            e.status.value,
        )
    if proof is not None:
        table.caption = (
            f"from the sandboxes: {proof.invoiced} invoiced, {proof.charged} charged, "
            f"{proof.posted} posted; doubled {proof.duplicates}, missed {len(proof.missed)}"
        )
    return table
