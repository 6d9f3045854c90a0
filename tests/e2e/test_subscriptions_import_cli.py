"""``payledger subscriptions import`` against both sandboxes (served on loopback), from a
config file: a dry run changes nothing, the import stores one subscription, and
``--take-over`` deletes the PayTrace recurrence only once its subscription is stored."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from payledger.adapters.paytrace import PayTraceClient, PayTraceRecurrenceSpec
from payledger.cli.main import app
from payledger.config import load_settings
from payledger.views.subscriptions import subscription_page
from tests.e2e.test_sync_cli import config_file
from tests.integration.doctor.conftest import SECRETS, Sandboxes, close, opened, sandboxes
from tests.integration.o2c.conftest import encrypted_card

__all__ = ["sandboxes"]  # the module-scoped fixture serving both sandboxes

VAULT_ID = "p-import-1"


async def arrange(config: Path, sandboxes: Sandboxes) -> str:
    """A PayTrace customer with a monthly recurrence, known in D365 as US-004's card."""
    async with PayTraceClient(sandboxes.paytrace, "demo123", "demo123", "shop") as shop:
        await shop.create_customer(VAULT_ID, card=encrypted_card())
        spec = PayTraceRecurrenceSpec(
            amount=Decimal("30.00"),
            start_date=date(2026, 1, 31),
            frequency="3",
            total_count=999,
            transaction_type="sale",
            description="Gold plan",
        )
        recurrence = str((await shop.create_recurrence(VAULT_ID, spec)).id)
    container = await opened(load_settings(config), SECRETS)
    try:
        client = await container.d365_client()
        key = {"dataAreaId": "usmf", "CustomerAccount": "US-004"}
        await client.update("CustomersV3", key, {"PayTraceCustomerId": VAULT_ID})
    finally:
        await close(container)
    return recurrence


async def stored(config: Path) -> list[tuple[str, str]]:
    container = await opened(load_settings(config))
    try:
        return [
            (s.customer_account, str(s.amount)) for s in await subscription_page(container.database)
        ]
    finally:
        await close(container)


async def active_recurrences(sandboxes: Sandboxes) -> set[str]:
    async with PayTraceClient(sandboxes.paytrace, "demo123", "demo123", "shop") as shop:
        found = await shop.export_recurrences(customer_id=VAULT_ID)
        return {str(r.id) for r in found if r.status == "ACTIVE"}


def test_import_shows_what_it_would_do_then_imports_and_takes_over(sandboxes, tmp_path):
    config = config_file(sandboxes, tmp_path)
    recurrence = asyncio.run(arrange(config, sandboxes))
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, ["--config", str(config), "subscriptions", "import", *args])
        assert result.exit_code == 0, result.output
        return result.output

    dry = run("--dry-run")
    assert "dry run (nothing changed): 1 imported" in dry and VAULT_ID in dry
    assert asyncio.run(stored(config)) == []

    imported = run()
    assert "1 imported" in imported
    assert asyncio.run(stored(config)) == [("US-004", "30.00")]
    assert recurrence in asyncio.run(active_recurrences(sandboxes))  # PayTrace still charges it

    again = run("--take-over")
    assert "1 taken over" in again and "0 imported" in again
    assert recurrence not in asyncio.run(active_recurrences(sandboxes))
    assert asyncio.run(stored(config)) == [("US-004", "30.00")]  # still the one subscription
