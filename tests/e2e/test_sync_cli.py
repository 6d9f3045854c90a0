"""``payledger sync customers`` against both sandboxes (served on loopback), from a config file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from payledger.adapters.paytrace import PayTraceClient, PayTraceCustomerDetails
from payledger.cli.main import app
from payledger.config import load_settings
from tests.integration.doctor.conftest import SECRETS, Sandboxes, close, opened, sandboxes
from tests.integration.o2c.conftest import encrypted_card

__all__ = ["sandboxes"]  # the module-scoped fixture serving both sandboxes


def config_file(sandboxes: Sandboxes, tmp_path: Path) -> Path:
    path = tmp_path / "payledger.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "payledger.db"}"
[vault]
key_file = "{tmp_path / "master.key"}"
[logging]
file = ""
[paytrace]
enabled = true
base_url = "{sandboxes.paytrace}"
username = "demo123"
integrator_id = "9575315uXt4u"
[d365]
enabled = true
base_url = "{sandboxes.d365}"
authority_host = "{sandboxes.d365}"
tenant = "payledger-sandbox"
client_id = "payledger-client"
ca_file = "{sandboxes.cert}"
"""
    )
    return path


async def arrange(config: Path, sandboxes: Sandboxes) -> None:
    """US-005 flagged for sync; a PayTrace profile naming it, as a shop would have vaulted."""
    container = await opened(load_settings(config), SECRETS)
    try:
        client = await container.d365_client()
        key = {"dataAreaId": "usmf", "CustomerAccount": "US-005"}
        await client.update("CustomersV3", key, {"PayTraceSync": "Yes"})
    finally:
        await close(container)
    async with PayTraceClient(sandboxes.paytrace, "demo123", "demo123", "shop") as shop:
        profile = PayTraceCustomerDetails(discretionary_data={"D365 Customer": "US-005"})
        await shop.create_customer("p-005", card=encrypted_card(), profile=profile)


async def paytrace_id_of(config: Path, account: str) -> str:
    container = await opened(load_settings(config))
    try:
        client = await container.d365_client()
        row = await client.get("CustomersV3", {"dataAreaId": "usmf", "CustomerAccount": account})
        return str(row["PayTraceCustomerId"])
    finally:
        await close(container)


def test_sync_customers_shows_what_it_would_do_then_does_it(sandboxes: Sandboxes, tmp_path):
    config = config_file(sandboxes, tmp_path)
    asyncio.run(arrange(config, sandboxes))
    runner = CliRunner()

    dry = runner.invoke(app, ["--config", str(config), "sync", "customers", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.output
    assert "ids written back" in dry.output and "p-005" in dry.output
    assert asyncio.run(paytrace_id_of(config, "US-005")) == ""

    done = runner.invoke(app, ["--config", str(config), "sync", "customers"])

    assert done.exit_code == 0, done.output
    assert asyncio.run(paytrace_id_of(config, "US-005")) == "p-005"
    again = runner.invoke(app, ["--config", str(config), "sync", "customers"])
    assert "changes" not in again.output  # in step: no change table
