"""``payledger status`` prints the cash of today and of this week and the oldest unposted
journal."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.cli.main import app
from payledger.domain import PaymentKind
from tests import cash_ledger as ledger


def seeded(tmp_path: Path) -> None:
    """A card sale and an ACH sale of a moment ago in an unposted journal opened 3 h ago."""

    async def go() -> None:
        database = Database(f"sqlite:///{tmp_path}/payledger.db")
        await migrate(database)
        now = datetime.now(UTC)
        async with database.transaction() as conn:
            day = await ledger.paid(conn, "T1", "1234.50", at=now, journal="JB-0007")
            await ledger.paid(
                conn, "T2", "80.00", at=now, kind=PaymentKind.ACH_SALE, journal="JB-0007"
            )
            await ledger.journal(conn, "JB-0007", day, opened_at=now - timedelta(hours=3))
        await database.dispose()

    asyncio.run(go())


def status(config: Path) -> str:
    result = CliRunner().invoke(app, ["--config", str(config), "status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def row(output: str, *cells: str) -> bool:
    return re.search(r"\s*│\s*".join(re.escape(cell) for cell in cells), output) is not None


def test_status_prints_the_cash_by_currency_and_method(config, tmp_path):
    seeded(tmp_path)
    output = status(config)
    today = output[output.index("cash today") : output.index("cash this week")]
    week = output[output.index("cash this week") :]
    for period in (today, week):
        assert row(period, "USD", "card", "1,234.50", "0.00", "0.00", "0.00", "1,234.50")
        assert row(period, "USD", "ach", "80.00", "0.00", "0.00", "0.00", "80.00")
    assert re.search(r"oldest unposted journal: JB-0007 of \S+, open 3\.0 h, 1,314\.50 USD", output)


def test_status_of_an_empty_ledger_says_no_money_moved(config, tmp_path):
    output = status(config)
    assert output.count("no money moved") == 2
    assert "every journal is posted" in output
