"""``payledger dunning list|show|retry|stop`` against a real database (SQLite and PostgreSQL),
the gateway and the ERP faked through ``ctx.obj``."""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from payledger.bootstrap import Container, build
from payledger.cli.common import load
from payledger.cli.dunning import app as dunning_app
from payledger.config import load_settings
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import (
    AttemptOutcome,
    CaseSource,
    DeclineClass,
    MissedCharge,
    open_case,
)
from payledger.domain.money import Money
from payledger.flows.dunning import DunningPorts
from payledger.stores.dunning import SqlDunning
from tests.fakes import FakeCollectionsErp
from tests.fakes_charging import (
    FakeCardGateway,
    FakeReceivables,
)
from tests.integration.dunning.conftest import SCHEDULE, sql_dunning_ports

DECLINED = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)
ME = f"cli:{getpass.getuser()}"


def write_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[vault]\nkey_file = "{tmp_path}/master.key"\n[logging]\nfile = ""\n'
        "[dunning]\nenabled = true\n"
    )
    return path


class World:
    """The configured database with cases 1 (INV-1, 30.00 USD) and 2 (INV-2, 12.50 EUR, hard),
    and dunning's other ports faked: the ERP has both invoices open."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.clock = ManualClock(DECLINED)
        self.gateway = FakeCardGateway()
        self.receivables = FakeReceivables()
        self.receivables.invoice_of("INV-1", "30.00")
        self.receivables.invoice_of("INV-2", "12.50")
        self.erp = FakeCollectionsErp()
        asyncio.run(self._seed())

    async def _container(self) -> Container:
        container = build(load_settings(str(self.config)), clock=self.clock)
        await container.prepare()
        if not container.database.is_sqlite:
            from payledger.adapters.db.migrate import migrate

            await migrate(container.database)
        return container

    async def _seed(self) -> None:
        container = await self._container()
        try:
            store = SqlDunning(container.database, self.clock)
            for invoice, amount, currency, cls in (
                ("INV-1", "30.00", "USD", DeclineClass.SOFT),
                ("INV-2", "12.50", "EUR", DeclineClass.HARD),
            ):
                missed = MissedCharge(
                    CaseSource.AUTO_PAY, f"auto-pay:{invoice}:9", invoice, "US-001", "cust-1",
                    Money.of(amount, currency), DECLINED, AttemptOutcome.DECLINED,
                    "Insufficient funds" if cls is DeclineClass.SOFT else "Expired card", "900",
                )  # fmt: skip
                await store.open(open_case(missed, cls, SCHEDULE), actor="payledger:dunning")
        finally:
            await container.aclose()

    async def ports(self, container: Container) -> DunningPorts:
        return sql_dunning_ports(
            container.database, self.clock, self.gateway, self.receivables, self.erp
        )

    def invoke(self, *args: str):
        root = typer.Typer()

        @root.callback()
        def main(ctx: typer.Context) -> None:
            ctx.obj = {"settings": load(str(self.config)), "dunning_ports": self.ports}

        root.add_typer(dunning_app, name="dunning")
        return CliRunner().invoke(root, ["dunning", *args], env={"COLUMNS": "200"})


@pytest.fixture
def world(database_url, tmp_path) -> World:
    return World(write_config(tmp_path, database_url))


def cells(output: str, marker: str) -> list[str]:
    [row] = [line for line in output.splitlines() if marker in line]
    return [cell.strip() for cell in row.strip("│ ").split("│")]


def test_list_shows_each_case_and_the_amounts_at_risk(world):
    result = world.invoke("list")

    assert result.exit_code == 0, result.output
    assert cells(result.output, "INV-1")[:7] == [
        "1", "retry_scheduled", "US-001", "INV-1", "30.00 USD", "2026-05-05 17:00 UTC", "0",
    ]  # fmt: skip
    assert cells(result.output, "INV-2")[:7] == [
        "2", "open", "US-001", "INV-2", "12.50 EUR", "-", "0",
    ]  # fmt: skip
    assert "at risk: 12.50 EUR, 30.00 USD" in result.output


def test_list_filters_by_status_and_refuses_an_unknown_one(world):
    assert "INV-1" not in world.invoke("list", "--status", "open").output
    refused = world.invoke("list", "--status", "lost")
    assert refused.exit_code == 2 and "must be one of" in refused.output


def test_show_prints_the_attempts_and_the_audit_trail(world):
    result = world.invoke("show", "2")

    assert result.exit_code == 0, result.output
    assert "case 2: open · invoice INV-2" in result.output
    assert cells(result.output, "hard")[2:5] == ["declined", "hard", "Expired card"]
    assert "dunning.opened" in result.output


def test_retry_charges_now_and_is_audited_as_the_cli_user(world):
    result = world.invoke("retry", "1")

    assert result.exit_code == 0, result.output
    assert "case 1: recovered" in result.output
    assert [amount for _, amount in world.gateway.calls] == [Money.of("30.00")]
    assert world.erp.steps == [(1, "undo")]
    trail = world.invoke("show", "1").output
    assert ME in cells(trail, "dunning.retry_now")


def test_stop_ends_the_case_with_its_reason_in_the_audit_log(world):
    result = world.invoke("stop", "1", "--reason", "disputed")

    assert result.exit_code == 0, result.output
    assert "case 1: stopped" in result.output
    row = cells(world.invoke("show", "1").output, "dunning.stopped")
    assert ME in row and "reason=disputed" in row[-1]
    again = world.invoke("retry", "1")
    assert again.exit_code == 2 and "is stopped" in again.output
    assert world.gateway.calls == []


@pytest.mark.parametrize("command", ["show", "retry", "stop"])
def test_an_unknown_id_exits_2_saying_so(world, command):
    result = world.invoke(command, "99")

    assert result.exit_code == 2
    assert "no dunning case 99" in result.output
