"""``payledger subscriptions`` on a real database (SQLite and PostgreSQL), D365's customers and
PayTrace's vault faked: a subscription is created, listed, shown with its audit trail, paused,
resumed and cancelled, each change audited as ``cli:<user>``; a refused value names its
option and exits 2."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from payledger.bootstrap import Container, build
from payledger.cli.common import load
from payledger.cli.subscriptions import app as subscriptions_app
from payledger.config import load_settings
from payledger.flows.change_subscription import ChangePorts
from payledger.stores.subscriptions import SqlSubscriptions
from payledger.views.subscriptions import subscription_audit
from tests.fakes import FakeSubscribers

ANCHOR = "2026-03-01"


def write_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[vault]\nkey_file = "{tmp_path}/master.key"\n[logging]\nfile = ""\n'
    )
    return path


async def fake_ports(container: Container, *, charge_upgrades: bool) -> ChangePorts:
    """The real store; D365's customers and PayTrace's vault as fakes."""
    return ChangePorts(
        store=SqlSubscriptions(container.database, container.clock),
        subscribers=FakeSubscribers({"US-001": "cust-1", "US-002": ""}, vault={"cust-1"}),
        clock=container.clock,
        timezone=container.settings.subscriptions.timezone,
    )


def cli(config: Path) -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = {"settings": load(str(config)), "subscription_ports": fake_ports}

    root.add_typer(subscriptions_app, name="subscriptions")
    return root


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path, database_url)

    async def migrate() -> None:
        container = build(load_settings(str(path)))
        try:
            await container.prepare()
            if not container.database.is_sqlite:
                from payledger.adapters.db.migrate import migrate

                await migrate(container.database)
        finally:
            await container.aclose()

    asyncio.run(migrate())
    return path


def invoke(config: Path, *args: str):
    return CliRunner().invoke(cli(config), ["subscriptions", *args], env={"COLUMNS": "200"})


def audit(config: Path, subscription_id: int) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        container = build(load_settings(str(config)))
        try:
            trail = await subscription_audit(container.database, subscription_id)
        finally:
            await container.aclose()
        return [(entry.actor, entry.action) for entry in trail]

    return asyncio.run(read())


def row_of(output: str, first_cell: str) -> list[str]:
    [row] = [line for line in output.splitlines() if line.strip("│ ").startswith(f"{first_cell} ")]
    return [cell.strip() for cell in row.strip("│ ").split("│")]


def test_create_list_show_pause_resume_and_cancel(config):
    made = invoke(
        config, "create", "--customer", "US-001", "--amount", "49.90",
        "--description", "Gold plan", "--anchor", ANCHOR,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "subscription 1 created: active, version 1" in made.output

    listed = invoke(config, "list")
    assert listed.exit_code == 0, listed.output
    assert row_of(listed.output, "1")[:5] == ["1", "US-001", "active", "49.90 USD", "Gold plan"]

    for args, says in (
        (("pause", "1"), "subscription 1 paused: paused, version 2"),
        (("resume", "1", "--version", "2"), "subscription 1 resumed: active, version 3"),
        (("cancel", "1", "--at-period-end"), "subscription 1 cancelled: active, version 4"),
        (("cancel", "1"), "subscription 1 cancelled: cancelled, version 5"),
    ):
        answer = invoke(config, *args)
        assert answer.exit_code == 0, answer.output
        assert says in answer.output

    shown = invoke(config, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "subscription 1 · cancelled · version 5" in shown.output
    assert "plan 49.90 USD Gold plan, every 1 month from 2026-03-01" in shown.output
    user = f"cli:{getpass.getuser()}"
    assert audit(config, 1) == [
        (user, "subscription.created"),
        (user, "subscription.paused"),
        (user, "subscription.resumed"),
        (user, "subscription.cancelled"),
        (user, "subscription.cancelled"),
    ]
    assert user in shown.output and "subscription.paused" in shown.output
    assert "no subscriptions" in invoke(config, "list", "--status", "active").output
    assert row_of(invoke(config, "list", "--status", "cancelled").output, "1")[2] == "cancelled"


def test_a_refused_value_names_its_option_and_exits_2(config):
    for args, says in (
        (("--amount", "0"), "--amount: plan.amount must be more than 0"),
        (("--amount", "1.005"), "--amount: plan.amount has more than the 2 decimals"),
        (("--currency", "XYZ"), "--currency: plan.currency 'XYZ' is not an ISO 4217"),
        (("--customer", "US-404"), "--customer: customer_account 'US-404' is no customer"),
        (("--customer", "US-002"), "--vault-customer: customer US-002 has no PayTrace"),
        (("--end-date", "2026-02-01"), "--end-date: end_date 2026-02-01 must be after"),
        (("--rule", "0 0 30 2 *"), "--unit/--every/--rule: interval"),
    ):
        base = {"--customer": "US-001", "--amount": "30.00", "--anchor": ANCHOR}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        flat = [part for pair in base.items() for part in pair]
        refused = invoke(config, "create", "--description", "Gold plan", *flat)
        assert refused.exit_code == 2, (args, refused.output)
        assert says in " ".join(refused.output.split()), (args, refused.output)
    assert "no subscriptions" in invoke(config, "list").output


def test_a_stale_version_or_an_unknown_id_exits_2(config):
    invoke(config, "create", "--customer", "US-001", "--amount", "30", "--description", "Gold")
    stale = invoke(config, "pause", "1", "--version", "7")
    assert stale.exit_code == 2 and "at version 1, not 7" in stale.output
    unknown = invoke(config, "resume", "42")
    assert unknown.exit_code == 2 and "no subscription 42" in unknown.output
    assert invoke(config, "show", "42").exit_code == 2
