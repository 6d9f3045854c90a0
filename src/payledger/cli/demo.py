"""``payledger demo``: the main job on the embedded default, explained as it runs.

It starts both vendor sandboxes and payledger in one process on a fresh SQLite database under
``var/demo``, runs a realistic day of payments (declines, refunds, voids, duplicates and
out-of-order arrivals, a D365 outage and a 429 storm), and proves that PayTrace and D365 agree,
amount by amount. ``--self-check`` instead exercises the durable engine on its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from payledger.cli.common import console, opened, run, setup_logging
from payledger.config import DatabaseSettings, LoggingSettings, Settings, VaultSettings
from payledger.demo.dunning import dunning_table
from payledger.demo.invoices import collections_table
from payledger.demo.reconcile_day import reconciliation_table
from payledger.demo.run import DemoReport, run_demo
from payledger.demo.subscriptions import month_table
from payledger.demo.webhooks import webhook_table
from payledger.selfcheck import CheckResult, run_self_check


def demo(
    workdir: Annotated[
        Path, typer.Option(help="Where the demo keeps its fresh database and logs.")
    ] = Path("var/demo"),
    self_check: Annotated[
        bool, typer.Option("--self-check", help="Only check the durable engine.")
    ] = False,
) -> None:
    """Run a day of payments through both sandboxes and prove PayTrace and D365 agree."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    settings = Settings(logging=LoggingSettings(file=workdir / "payledger.log", level="INFO"))
    setup_logging(settings, stderr=False)
    if self_check:
        _engine_self_check(workdir)
        return
    console.rule(
        "[bold]payledger demo[/bold]: a day of payments, PayTrace -> D365, on embedded SQLite"
    )
    report = run(run_demo(workdir, _say))
    _print_day(report)
    if report.webhooks is not None:
        console.print(webhook_table(report.webhooks))
    _print_shop_orders(report)
    _print_agreement(report)
    if report.reconciliation is not None:
        console.print(reconciliation_table(report.reconciliation))
    if report.collections is not None:
        console.print(collections_table(report.collections))
    if report.subscriptions is not None:
        console.print(month_table(report.subscriptions))
    if report.dunning is not None:
        console.print(dunning_table(report.dunning))
        for place in report.dunning.card_data[:10]:
            console.print(f"[red]card data:[/red] {place}", soft_wrap=True, markup=False)
    orders_ok = report.shop_orders is None or report.shop_orders.all_ok
    reconciled = report.reconciliation is None or report.reconciliation.ok
    settled = report.collections is None or report.collections.ok
    billed = report.subscriptions is None or report.subscriptions.ok
    dunned = report.dunning is None or report.dunning.ok
    if not all((report.agreement.agrees, orders_ok, reconciled, settled, billed, dunned)):
        raise typer.Exit(1)
    console.print(f"[green]PayTrace and D365 agree[/green]; database and logs in {workdir}/")


def _say(message: str) -> None:
    console.print(f"  [dim]-[/dim] {message}")


def _print_day(report: DemoReport) -> None:
    t, p = report.traffic, report.postings
    table = Table("", "count", title=f"the day in {report.seconds:.1f} s")
    table.add_row("payments sent to PayTrace", str(t.total))
    table.add_row(
        "  sales / authorizations / captures",
        f"{len(t.sales)} / {len(t.authorizations)} / {len(t.captures)}",
    )
    table.add_row(
        "  declines / refunds / voids", f"{len(t.declines)} / {len(t.refunds)} / {len(t.voids)}"
    )
    table.add_row(
        "  ACH payments / refunds / not processed / voids",
        f"{len(t.ach_sales)} / {len(t.ach_refunds)} / {len(t.ach_declines)} / {len(t.ach_voids)}",
    )
    table.add_row("events ingested (inbox)", str(report.events))
    table.add_row("duplicates ignored", str(report.duplicates))
    lines = sum(p.get(f"posted:{op}", 0) for op in ("payment", "refund", "reversal"))
    table.add_row("D365 journal lines written", str(lines))
    table.add_row("D365 lines removed by voids", str(p.get("posted:removal", 0)))
    table.add_row("D365 sales orders updated", str(p.get("posted:order", 0)))
    table.add_row("declined (no line, order status only)", str(report.declined))
    table.add_row("voided before sending (cancelled)", str(p.get("cancelled:payment", 0)))
    dead = sum(count for key, count in p.items() if key.startswith("dead:"))
    table.add_row("parked (dead letters)", str(dead + report.dead_jobs))
    table.add_row(
        "D365 requests (all / $batch writes)",
        f"{report.d365_requests} / {report.d365_write_requests}",
    )
    console.print(table)


def _print_shop_orders(report: DemoReport) -> None:
    orders = report.shop_orders
    if orders is None:
        return
    title = f"web shop orders in {orders.seconds:.1f} s (POST /api/v1/orders, order to cash)"
    table = Table("", "orders", title=title)
    table.add_row("placed", str(len(orders.answers)))
    table.add_row("  paid and in D365 before the answer (201)", str(orders.count(201)))
    completed_later = sum(orders.checked.get(o) == "ok" for o in orders.queued)
    table.add_row(
        "  paid, D365 down or slow (202) / completed later",
        f"{orders.count(202)} / {completed_later}",
    )
    table.add_row("  declined (402, nothing in D365)", str(orders.count(402)))
    table.add_row(
        "  retried under a new key, not charged again", str(orders.retried_without_charge)
    )
    table.add_row("D365 customers created by orders", str(orders.customers_created))
    table.add_row("D365 sales order lines", str(orders.lines))
    bad = {o: why for o, why in orders.checked.items() if why != "ok"}
    table.add_row("checked in D365 (order, lines, payment status)",
                  "all ok" if not bad else f"[red]{len(bad)} wrong[/red]")  # fmt: skip
    console.print(table)
    for order_id, why in list(bad.items())[:10]:
        console.print(f"[red]{order_id}:[/red] {why}")


def _print_agreement(report: DemoReport) -> None:
    a = report.agreement
    table = Table("", "PayTrace", "D365", "agree", title="PayTrace vs D365, amount by amount")
    for kind, (expected, found) in a.totals.items():
        table.add_row(
            kind,
            f"{expected:,.2f}",
            f"{found:,.2f}",
            "yes" if expected == found else "[red]NO[/red]",
        )
    table.add_row(
        "lines", str(len(a.expected)), str(len(a.found)), "yes" if a.agrees else "[red]NO[/red]"
    )
    console.print(table)
    for label, items in (
        ("missing in D365", a.missing),
        ("not from PayTrace", a.unexpected),
        ("wrong amount", a.wrong_amounts),
        ("duplicated", a.duplicates),
    ):
        if items:
            console.print(f"[red]{label}:[/red] {', '.join(items[:20])}")


def _engine_self_check(workdir: Path) -> None:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{workdir / 'payledger.db'}"),
        vault=VaultSettings(key_file=workdir / "master.key"),
        logging=LoggingSettings(file=workdir / "payledger.log", level="INFO"),
    )
    console.rule("[bold]payledger demo --self-check[/bold]: the durable engine on embedded SQLite")

    async def go() -> list[CheckResult]:
        async with opened(settings) as container:
            return await run_self_check(container, settings_dir=workdir, say=_say)

    results = run(go())
    table = Table("check", "result", "what it proved", title="engine self-check")
    for result in results:
        table.add_row(
            result.name, "[green]ok[/green]" if result.ok else "[red]FAILED[/red]", result.detail
        )
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)
    console.print(
        f"[green]all {len(results)} checks passed[/green]; database and logs in {workdir}/"
    )
