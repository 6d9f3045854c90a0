"""``payledger shadow report``: what shadow mode would have written to D365."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import console, settings_from, with_container
from payledger.views.shadow import ShadowWrite, shadow_totals, shadow_writes

app = typer.Typer(help='Shadow mode ([posting] mode = "shadow"): D365 read, never written.')

FIXED_COLUMNS = [
    "business_day",
    "kind",
    "operation",
    "reference",
    "gateway_txn_id",
    "customer_account",
    "currency",
    "debit",
    "credit",
    "journal_batch_number",
    "line_number",
    "target_reference",
    "recorded_at",
]


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


@app.command("report")
def report(
    ctx: typer.Context,
    first: Annotated[
        str | None, typer.Option("--from", help="First business day (YYYY-MM-DD).")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last business day (YYYY-MM-DD).")
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write every would-be write, payload fields included."),
    ] = None,
) -> None:
    """List the journal lines, line removals and order updates shadow mode kept, with totals,
    for finance to compare with what they expect in D365."""
    first_day, last_day = _day(first, "--from"), _day(last, "--to")

    async def go(container: Container) -> list[ShadowWrite]:
        return await shadow_writes(container.database, first_day=first_day, last_day=last_day)

    writes = with_container(settings_from(ctx), go)
    if not writes:
        console.print('no shadow writes (is [posting] mode = "shadow"?)')
    else:
        console.print(_table(writes))
        console.print(_summary(writes))
    if csv_file is not None:
        count = write_csv(writes, csv_file)
        console.print(f"wrote {count} row(s) to {csv_file}")


def _table(writes: Sequence[ShadowWrite]) -> Table:
    table = Table(
        "day", "operation", "reference", "customer", "debit", "credit", "journal", "line", "detail",
        title="would-be D365 writes (shadow mode)",
    )  # fmt: skip
    for write in writes:
        table.add_row(
            write.business_day,
            write.operation,
            write.reference,
            write.customer_account,
            _money(write.debit),
            _money(write.credit),
            write.journal_batch_number,
            "" if write.line_number is None else str(write.line_number),
            _detail(write),
        )
    return table


def _detail(write: ShadowWrite) -> str:
    if write.kind == "removal":
        return f"removes {write.target_reference}"
    if write.kind == "order update":
        order = write.payload.get("SalesOrderNumber", "")
        fields = ", ".join(
            f"{k}={v}"
            for k, v in write.payload.items()
            if k not in ("dataAreaId", "SalesOrderNumber")
        )
        return f"order {order}: {fields}"
    if write.target_reference:
        return f"reverses {write.target_reference}"
    return ""


def _summary(writes: Sequence[ShadowWrite]) -> Table:
    table = Table(
        "currency", "lines", "debits", "credits", "net credit", "removals", "removed (net)",
        "order updates", title="totals",
    )  # fmt: skip
    for currency, total in sorted(shadow_totals(writes).items()):
        table.add_row(
            currency,
            str(total.lines),
            _money(total.debits),
            _money(total.credits),
            _money(total.net_credit),
            str(total.removals),
            _money(total.removed),
            str(total.order_updates),
        )
    return table


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def write_csv(writes: Sequence[ShadowWrite], path: Path) -> int:
    """One row per would-be write; payload fields as ``payload.<Field>`` columns."""
    payload_fields = sorted({name for write in writes for name in write.payload})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        rows = csv.writer(out)
        rows.writerow([*FIXED_COLUMNS, *(f"payload.{name}" for name in payload_fields)])
        for write in writes:
            rows.writerow(
                [
                    write.business_day,
                    write.kind,
                    write.operation,
                    write.reference,
                    write.gateway_txn_id,
                    write.customer_account,
                    write.amount.currency,
                    _plain(write.debit),
                    _plain(write.credit),
                    write.journal_batch_number,
                    _plain(write.line_number),
                    write.target_reference,
                    _plain(write.recorded_at),
                    *(_plain(write.payload.get(name)) for name in payload_fields),
                ]
            )
    return len(writes)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)
