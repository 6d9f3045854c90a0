"""``payledger dunning``: the dunning cases, one case's timeline, and an operator's retry or
stop of one (audited as ``cli:<user>``).

``list`` prints the cases (status, customer, invoice, amount, next retry, attempts) and the
amounts at risk by currency; ``show ID`` the case with its attempts and audit trail;
``retry ID`` charges it now; ``stop ID`` ends its retries and notices. An unknown ID, or an
action the case's status does not allow, exits 2 with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.bootstrap.dunning import operator_ports, retry_command
from payledger.cli.common import cli_actor, console, settings_from, setup_logging, with_container
from payledger.domain.dunning import DunningCase
from payledger.flows.dunning import DunningPorts, retry_case_now, stop_case
from payledger.flows.ports import UnknownCase
from payledger.stores.dunning import SqlDunning
from payledger.views.dunning import STATUSES, at_risk, case_audit, case_list

app = typer.Typer(help="Dunning cases (declined charges retried): list, show, retry now, stop.")

PortsFactory = Callable[[Container], Awaitable[DunningPorts]]


@app.command("list")
def list_cases(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help=f"Only cases with this status ({', '.join(STATUSES)}).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 50,
) -> None:
    """List the latest cases and the amounts still at risk by currency."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(STATUSES)}", param_hint="--status")
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def show(container: Container) -> None:
        table = Table(
            "id", "status", "customer", "invoice", "amount", "next retry", "attempts", "reason"
        )
        for c in await case_list(container.database, status=status, limit=limit):
            table.add_row(
                str(c.id),
                c.status,
                escape(c.customer_account),
                escape(c.invoice_number),
                f"{c.amount} {c.currency}",
                _when(c.next_attempt_at),
                str(c.attempts),
                escape(c.reason),
            )
        console.print(table if table.row_count else "no dunning cases")
        risk = await at_risk(container.database)
        amounts = ", ".join(f"{amount} {currency}" for currency, amount in risk.items())
        console.print(f"at risk: {amounts or 'nothing'}")

    with_container(settings, show)


@app.command("show")
def show_case(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(metavar="ID", help="The case's id.")],
) -> None:
    """Show case ID: its invoice, status, attempts and audit trail."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def show(container: Container) -> None:
        case = await SqlDunning(container.database, container.clock).get(case_id)
        if case is None:
            raise UnknownCase(f"no dunning case {case_id}")
        _print_case(case)
        attempts = Table("no", "at", "outcome", "class", "decline text", "transaction")
        for a in case.attempts:
            cls = a.decline_class.value if a.decline_class else ""
            attempts.add_row(
                str(a.no), _when(a.at), a.outcome.value, cls, escape(a.reason), a.gateway_txn_id
            )
        console.print(attempts)
        trail = Table("at", "actor", "action", "detail")
        for entry in await case_audit(container.database, case_id):
            detail = ", ".join(f"{k}={v}" for k, v in entry.detail.items())
            trail.add_row(_when(entry.at), escape(entry.actor), entry.action, escape(detail))
        console.print(trail)

    with_container(settings, show)


@app.command("retry")
def retry(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(metavar="ID", help="The case's id.")],
) -> None:
    """Charge case ID's invoice now (also on a day that already had an attempt)."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)
    ports_of: PortsFactory = (ctx.obj or {}).get("dunning_ports", operator_ports)

    async def go(container: Container) -> None:
        command = retry_command(container.settings, owner=f"cli:{case_id}")
        case = await retry_case_now(case_id, await ports_of(container), command, actor=cli_actor())
        _print_case(case)

    with_container(settings, go)


@app.command("stop")
def stop(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(metavar="ID", help="The case's id.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "stopped by hand",
) -> None:
    """Stop case ID: no more retries or notices (D365 is left as it is)."""
    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)
    ports_of: PortsFactory = (ctx.obj or {}).get("dunning_ports", operator_ports)

    async def go(container: Container) -> None:
        case = await stop_case(case_id, await ports_of(container), actor=cli_actor(), reason=reason)
        _print_case(case)

    with_container(settings, go)


def _print_case(case: DunningCase) -> None:
    amount = f"{case.amount.amount} {case.amount.currency}"
    console.print(
        f"case {case.id}: {case.status.value} · invoice {escape(case.invoice_number)} · "
        f"customer {escape(case.customer_account)} · {amount} · "
        f"next retry {_when(case.next_attempt_at)}"
        + (f" · {escape(case.reason)}" if case.reason else "")
    )


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
