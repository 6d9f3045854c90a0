"""The dashboard's cash panel in chromium, against the real service on a ledger the test wrote."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.bench.postgres import free_port
from payledger.domain import PaymentKind
from payledger.domain.clock import SystemClock
from payledger.stores.api_clients import ApiClients
from tests import cash_ledger as ledger
from tests.e2e.console.conftest import PAYLEDGER, _env, _stop, _wait_for, in_own_loop


async def _seed(database_file: Path) -> str:
    """Today: a card sale posted, an ACH sale and a card refund unposted, a batch settled;
    a read token for the console."""
    database = Database(f"sqlite:///{database_file}")
    await migrate(database)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ledger.ZONE)).date().isoformat()
    async with database.transaction() as conn:
        await ledger.journal(conn, "JB-0001", today, opened_at=now - timedelta(hours=5))
        await ledger.journal(conn, "JB-0002", today, opened_at=now - timedelta(hours=2))
        await ledger.paid(conn, "T1", "1250.75", at=now, journal="JB-0001")
        await ledger.post(conn, "JB-0001", now)
        await ledger.paid(
            conn, "T2", "310.40", at=now, kind=PaymentKind.ACH_SALE, journal="JB-0002"
        )
        await ledger.paid(conn, "R1", "20.15", at=now, kind=PaymentKind.REFUND, journal="JB-0002")
        await ledger.reconciled(conn, today, today, [("88", today, {"USD": "1230.60"})])
        viewer = await ApiClients(SystemClock()).issue(conn, "auditor", ["read"], actor="test")
    await database.dispose()
    return viewer.secret


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``(console URL, read token)`` of ``payledger serve`` on the seeded ledger."""
    workdir = tmp_path_factory.mktemp("cash")
    (workdir / "var").mkdir()
    config = workdir / "payledger.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{workdir}/var/payledger.db"\n'
        f'[vault]\nkey_file = "{workdir}/var/master.key"\n[logging]\nfile = ""\n'
    )
    token = in_own_loop(_seed(workdir / "var/payledger.db"))
    port = free_port()
    proc = subprocess.Popen(
        [*PAYLEDGER, "--config", str(config), "serve", "--port", str(port)],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/readyz", proc)
        yield f"http://127.0.0.1:{port}/console", token
    finally:
        _stop(proc)


def cell(page, period: str, row: str, flow: str) -> str:
    return page.inner_text(f"#cash-{period} tr[data-cash='{row}'] [data-flow='{flow}']").strip()


def test_the_cash_panel_shows_the_amounts_in_the_database(page, service):
    url, token = service
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    for period in ("today", "week"):
        assert cell(page, period, "USD.card", "captured") == "1250.75"
        assert cell(page, period, "USD.card", "refunded") == "20.15"
        assert cell(page, period, "USD.card", "settled") == "1230.60"
        assert cell(page, period, "USD.card", "posted") == "1250.75"
        assert cell(page, period, "USD.card", "unposted") == "-20.15"
        assert cell(page, period, "USD.ach", "captured") == "310.40"
        assert cell(page, period, "USD.ach", "unposted") == "310.40"
        assert page.locator(f"#cash-{period} tbody tr").count() == 2
    oldest = page.inner_text("#oldest-unposted")
    assert "JB-0002" in oldest and "290.25 USD" in oldest and "2 h 0 min" in oldest
