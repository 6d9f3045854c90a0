"""``payledger subscriptions``: list, show, create and change subscriptions.

The changes are the API's (``flows/change_subscription.py``), audited as ``cli:<user>``. A
value the flows refuse is named with its option (``--amount: plan.amount must be more than
0``) and exits 2, as an unknown or stale subscription does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.bootstrap.subscriptions import change_ports
from payledger.cli.common import (
    cli_actor,
    console,
    errors,
    settings_from,
    setup_logging,
    with_container,
)
from payledger.cli.subscriptions_import import import_subscriptions
from payledger.domain.subscriptions import Subscription
from payledger.domain.subscriptions_periods import InvalidSubscription
from payledger.flows.change_subscription import (
    CancelSubscription,
    ChangePlan,
    ChangePorts,
    CreateSubscription,
    PauseSubscription,
    ReplacePaymentMethod,
    ResumeSubscription,
    cancel_subscription,
    change_subscription_plan,
    create_subscription,
    pause_subscription,
    replace_subscription_payment_method,
    resume_subscription,
)
from payledger.stores.subscriptions import SqlSubscriptions
from payledger.views.subscriptions import subscription_audit, subscription_page

app = typer.Typer(
    help="Subscriptions (recurring billing): list, show, create, change, pause, resume, cancel."
)

PortsFactory = Callable[..., Awaitable[ChangePorts]]
"""``change_ports(container, charge_upgrades=...)``, or a test's stand-in (``ctx.obj``)."""

OPTION_OF = {
    "customer_account": "--customer",
    "vault_customer_id": "--vault-customer",
    "plan.amount": "--amount",
    "plan.currency": "--currency",
    "plan.description": "--description",
    "plan.item": "--item",
    "plan.ledger_account": "--ledger-account",
    "interval": "--unit/--every/--rule",
    "interval.unit": "--unit",
    "interval.every": "--every",
    "interval.rule": "--rule",
    "end_date": "--end-date",
    "max_periods": "--max-periods",
    "trial_end": "--trial-end",
}
Id = Annotated[int, typer.Argument(metavar="ID", help="The subscription's id.", min=1)]
Version = Annotated[
    int | None, typer.Option(help="Refuse the change unless the subscription is at this version.")
]
Day = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        errors.print(f"[red]error:[/red] --amount: {escape(text)!r} is not a decimal amount")
        raise typer.Exit(2) from None


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _run(ctx: typer.Context, change: Callable[[ChangePorts], Awaitable[Any]], **opts: Any) -> Any:
    """Run ``change`` with the change ports; a refused value names its option and exits 2."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)
    ports_of: PortsFactory = (ctx.obj or {}).get("subscription_ports", change_ports)

    async def go(container: Container) -> Any:
        try:
            return await change(await ports_of(container, **opts))
        except InvalidSubscription as exc:
            option = OPTION_OF.get(exc.field, exc.field)
            errors.print(f"[red]error:[/red] {option}: {escape(str(exc))}")
            raise typer.Exit(2) from None

    return with_container(settings, go)


def _said(subscription: Subscription, what: str) -> None:
    due = subscription.next_due()
    ends = subscription.schedule.end_date if subscription.cancel_at_period_end else None
    console.print(
        f"subscription {subscription.id} {what}: {subscription.status.value}, "
        f"version {subscription.version}, next charge {due.isoformat() if due else '-'}"
        + (f", ends {ends}" if ends else "")
    )


@app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only those with this status.")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this D365 customer's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 100,
) -> None:
    """List subscriptions with their status, amount and next charge, oldest first."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def show(container: Container) -> None:
        rows = await subscription_page(
            container.database, status=status, customer=customer, limit=limit
        )
        table = Table("id", "customer", "status", "amount", "plan", "next charge", "version")
        for row in rows:
            ending = row.cancel_at_period_end and row.status not in ("cancelled", "ended")
            end = " (ends at period end)" if ending else ""
            table.add_row(
                str(row.id),
                row.customer_account,
                row.status + end,
                f"{row.amount} {row.currency}",
                escape(row.description),
                row.next_charge_at.isoformat() if row.next_charge_at else "-",
                str(row.version),
            )
        console.print(table if table.row_count else "no subscriptions")

    with_container(settings, show)


@app.command("show")
def show(ctx: typer.Context, subscription_id: Id) -> None:
    """Show a subscription: plan, schedule, next charge, billed periods and audit trail."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def go(container: Container) -> None:
        store = SqlSubscriptions(container.database, container.clock)
        s = await store.get(subscription_id)
        if s is None:
            errors.print(f"[red]error:[/red] no subscription {subscription_id}")
            raise typer.Exit(2)
        due = s.next_due()
        console.print(
            f"subscription {s.id} · {s.status.value} · version {s.version}\n"
            f"customer {s.customer_account}, charged through PayTrace customer "
            f"{escape(s.vault_customer_id)}\n"
            f"plan {s.plan.amount} {escape(s.plan.description)}, {s.schedule.interval} "
            f"from {s.schedule.anchor} ({s.schedule.timezone})\n"
            f"next charge {due.isoformat() if due else '-'}"
            + (f"\nends {s.schedule.end_date}" if s.schedule.end_date else "")
            + (f"\ncredit {s.credit} {s.currency}" if s.credit else "")
        )
        periods = Table("period", "from", "to", "amount", "status", "invoice", "PayTrace", "error")
        for e in await store.entries(s.id):
            periods.add_row(
                f"{e.period.index}" + (f"-U{e.entry}" if e.entry else ""),
                e.period.starts_on.isoformat(),
                e.period.ends_on.isoformat(),
                str(e.total),
                e.status.value,
                e.invoice_number,
                e.gateway_txn_id,
                escape(e.error),
            )
        console.print(periods if periods.row_count else "no period billed yet")
        trail = Table("at", "by", "action")
        for entry in await subscription_audit(container.database, s.id):
            trail.add_row(entry.at.isoformat(timespec="seconds"), entry.actor, entry.action)
        console.print(trail)

    with_container(settings, go)


@app.command("create")
def create(
    ctx: typer.Context,
    customer: Annotated[str, typer.Option(help="The D365 customer account.")],
    amount: Annotated[str, typer.Option(help="The price of each period, e.g. 49.90.")],
    description: Annotated[str, typer.Option(help="The invoice line's text.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "USD",
    vault_customer: Annotated[
        str, typer.Option(help="The PayTrace customer to charge (default: the one on D365's).")
    ] = "",
    unit: Annotated[str, typer.Option(help="day, week, month or year.")] = "month",
    every: Annotated[int, typer.Option(help="Every how many units.")] = 1,
    rule: Annotated[str, typer.Option(help="A cron rule instead, e.g. '0 0 1,15 * *'.")] = "",
    anchor: Day = None,
    trial_end: Day = None,
    end_date: Day = None,
    max_periods: Annotated[int | None, typer.Option()] = None,
    item: Annotated[str, typer.Option(help="Item number for the invoice line.")] = "",
    ledger_account: Annotated[str, typer.Option(help="Or a main account.")] = "",
) -> None:
    """Subscribe a D365 customer to a plan (the first period starts on --anchor, default
    today)."""
    command = CreateSubscription(
        customer_account=customer,
        amount=_amount(amount),
        currency=currency,
        description=description,
        actor=cli_actor(),
        unit=unit,
        every=every,
        rule=rule,
        anchor=_day(anchor),
        vault_customer_id=vault_customer,
        trial_end=_day(trial_end),
        end_date=_day(end_date),
        max_periods=max_periods,
        item=item,
        ledger_account=ledger_account,
    )

    async def go(ports: ChangePorts) -> None:
        _said(await create_subscription(command, ports), "created")

    _run(ctx, go, charge_upgrades=False)


@app.command("change")
def change(
    ctx: typer.Context,
    subscription_id: Id,
    amount: Annotated[str | None, typer.Option(help="The new plan's price.")] = None,
    description: Annotated[str | None, typer.Option(help="The new plan's text.")] = None,
    currency: Annotated[str, typer.Option()] = "USD",
    item: Annotated[str, typer.Option()] = "",
    ledger_account: Annotated[str, typer.Option()] = "",
    vault_customer: Annotated[str | None, typer.Option(help="Charge this one instead.")] = None,
    version: Version = None,
) -> None:
    """Move to a new plan (--amount and --description; prorated when the period running was
    billed), or charge another PayTrace customer (--vault-customer)."""
    if vault_customer is not None and amount is None and description is None:
        method = ReplacePaymentMethod(subscription_id, vault_customer, cli_actor(), version)

        async def replace_method(ports: ChangePorts) -> None:
            _said(await replace_subscription_payment_method(method, ports), "changed")

        _run(ctx, replace_method, charge_upgrades=False)
        return
    if amount is None or description is None or vault_customer is not None:
        errors.print(
            "[red]error:[/red] give --amount and --description (a new plan), "
            "or --vault-customer alone"
        )
        raise typer.Exit(2)
    plan = ChangePlan(
        subscription_id,
        _amount(amount),
        currency,
        description,
        cli_actor(),
        item,
        ledger_account,
        version,
    )

    async def new_plan(ports: ChangePorts) -> None:
        result = await change_subscription_plan(plan, ports)
        _said(result.subscription, "changed")
        if (p := result.proration) is not None:
            console.print(
                f"prorated {p.days_left} of {p.period.days} days: credit {p.credit}, "
                f"charge {p.charge}, difference {p.difference}"
                + (f" ({result.upgrade_charge})" if result.upgrade_charge else " (credited)")
            )

    _run(ctx, new_plan, charge_upgrades=True)


@app.command("pause")
def pause(ctx: typer.Context, subscription_id: Id, version: Version = None) -> None:
    """Stop billing; periods starting while paused are skipped, not billed later."""
    command = PauseSubscription(subscription_id, cli_actor(), version)

    async def go(ports: ChangePorts) -> None:
        _said(await pause_subscription(command, ports), "paused")

    _run(ctx, go, charge_upgrades=False)


@app.command("resume")
def resume(ctx: typer.Context, subscription_id: Id, version: Version = None) -> None:
    """Bill again from the next period that starts after now."""
    command = ResumeSubscription(subscription_id, cli_actor(), version)

    async def go(ports: ChangePorts) -> None:
        _said(await resume_subscription(command, ports), "resumed")

    _run(ctx, go, charge_upgrades=False)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    subscription_id: Id,
    at_period_end: Annotated[
        bool, typer.Option("--at-period-end", help="The period running now is the last.")
    ] = False,
    version: Version = None,
) -> None:
    """Cancel now (no more periods), or at the end of the period running now."""
    command = CancelSubscription(subscription_id, cli_actor(), at_period_end, version)

    async def go(ports: ChangePorts) -> None:
        _said(await cancel_subscription(command, ports), "cancelled")

    _run(ctx, go, charge_upgrades=False)


app.command("import")(import_subscriptions)
