"""``payledger backfill`` brings past days in from the PayTrace sandbox's exports; with the
poller and with itself it is idempotent, and D365 ends up with every line exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.adapters.paytrace.translate import payment_from_export
from payledger.bench.postgres import free_port
from payledger.bootstrap import build
from payledger.config import load_settings
from payledger.demo.day import Shop
from payledger.demo.stage import DISCRETIONARY_TITLES
from payledger.domain import Outcome, PaymentKind, PaymentStatus
from payledger.domain.posting import LedgerOperation, payment_reference
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.sandbox.d365 import D365Sandbox, D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import write_self_signed_certificate
from payledger.sandbox.paytrace import PayTraceSandbox, PayTraceSandboxSettings
from payledger.sandbox.paytrace import create_app as create_paytrace
from payledger.stores.payment_events import SqlPaymentEventStore

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]
PACIFIC = ZoneInfo("America/Los_Angeles")
TODAY = datetime.now(PACIFIC).date()
DAY1, DAY2, DAY3 = TODAY - timedelta(days=2), TODAY - timedelta(days=1), TODAY


@dataclass
class Stage:
    workdir: Path
    paytrace_url: str
    paytrace: PayTraceSandbox
    d365: D365Sandbox


def serve(app, port: int, **tls) -> uvicorn.Server:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **tls
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "a sandbox did not start"
        time.sleep(0.02)
    return server


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    """Both sandboxes on loopback; PayTrace's clock stands at 09:00 Pacific two days ago."""
    pt_port, d365_port = free_port(), free_port()
    cert, key = write_self_signed_certificate(tmp_path / "tls")
    d365_url = f"https://127.0.0.1:{d365_port}"
    start = datetime.combine(DAY1, datetime.min.time(), PACIFIC) + timedelta(hours=9)
    paytrace_app = create_paytrace(
        PayTraceSandboxSettings(
            seed=5, clock_start=start, discretionary_fields=DISCRETIONARY_TITLES
        )
    )
    d365_app = create_d365(D365SandboxSettings(base_url=d365_url))
    servers = [
        serve(paytrace_app, pt_port),
        serve(d365_app, d365_port, ssl_certfile=str(cert), ssl_keyfile=str(key)),
    ]
    (tmp_path / "payledger.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/var/payledger.db"\n'
        f'[vault]\nkey_file = "{tmp_path}/var/master.key"\n'
        f'[logging]\nfile = "{tmp_path}/var/log/payledger.log"\n'
        "[worker]\npoll_interval_seconds = 0.05\nbackoff_base_seconds = 0.1\n"
        "backoff_cap_seconds = 1\n"
        f'[paytrace]\nbase_url = "http://127.0.0.1:{pt_port}"\nusername = "demo123"\n'
        'integrator_id = "payledger-test"\n'
        f'[d365]\nenabled = true\nbase_url = "{d365_url}"\nauthority_host = "{d365_url}"\n'
        f'tenant = "payledger-sandbox"\nclient_id = "payledger-client"\nca_file = "{cert}"\n'
        "[posting]\nmax_wait_ms = 50\n"
    )
    for name, value in (
        ("paytrace-password", "demo123"),
        ("d365-client-secret", "payledger-secret"),
    ):
        assert payledger(tmp_path, "secrets", "set", name, stdin=value).returncode == 0
    try:
        yield Stage(
            tmp_path,
            f"http://127.0.0.1:{pt_port}",
            paytrace_app.state.sandbox,
            d365_app.state.sandbox,
        )
    finally:
        for server in servers:
            server.should_exit = True


def payledger(workdir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    return subprocess.run(
        [*PAYLEDGER, *args],
        cwd=workdir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**environment, "COLUMNS": "160"},
    )


def backfill(stage: Stage, first: date, last: date) -> tuple[int, int, int]:
    """Run the command; returns its total (fetched, new, already known)."""
    result = payledger(
        stage.workdir, "backfill", "--from", first.isoformat(), "--to", last.isoformat(), "--wait"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "still waiting" not in result.stdout, result.stdout
    total = re.search(r"total\D+(\d+)\D+(\d+)\D+(\d+)", result.stdout)
    assert total is not None, result.stdout
    fetched, new, known = (int(n) for n in total.groups())
    return fetched, new, known


def at_paytrace(stage: Stage, scenario) -> Shop:
    """Run ``scenario(shop)`` against the PayTrace sandbox through payledger's connector."""
    settings = load_settings(stage.workdir / "payledger.toml")

    async def go() -> Shop:
        container = build(settings)
        try:
            shop = Shop(await container.paytrace_client(), seed=9)
            await scenario(shop)
            return shop
        finally:
            await container.aclose()

    return asyncio.run(go())


def poll_once(stage: Stage) -> int:
    """What the scheduled poller does (looking three days back); returns new events."""
    settings = load_settings(stage.workdir / "payledger.toml")

    async def go() -> int:
        container = build(settings)
        try:
            source = PayTraceGateway(await container.paytrace_client())
            command = PollPayments(first_lookback=timedelta(days=3))
            store = SqlPaymentEventStore(container.inbox)
            result = await poll_payments(command, source=source, store=store, clock=container.clock)
            return result.new
        finally:
            await container.aclose()

    return asyncio.run(go())


def paytrace_expects(stage: Stage, days: list[date]) -> dict[str, Decimal]:
    """The signed amount of every ledger line PayTrace's own exports call for."""

    async def go(shop: Shop) -> None:
        for day in days:
            for record in await shop.client.export_transactions(day, day):
                payment = payment_from_export(record)
                approved = payment.outcome is Outcome.APPROVED
                if not approved or payment.status is PaymentStatus.VOIDED:
                    continue
                if payment.kind in (PaymentKind.SALE, PaymentKind.CAPTURE):
                    ref = payment_reference(payment.gateway_txn_id, LedgerOperation.PAYMENT)
                    expected[ref] = payment.amount.amount
                elif payment.kind is PaymentKind.REFUND:
                    ref = payment_reference(payment.gateway_txn_id, LedgerOperation.REFUND)
                    expected[ref] = -payment.amount.amount

    expected: dict[str, Decimal] = {}
    at_paytrace(stage, go)
    return expected


def d365_lines(stage: Stage) -> Counter[str]:
    """PaymentReferences of payledger's payment journal lines in the D365 sandbox."""
    table = stage.d365.state.store.table("CustomerPaymentJournalLines")
    references = (str(record.values.get("PaymentReference", "")) for record in table)
    return Counter(reference for reference in references if reference.startswith("PT-"))


def test_backfill_brings_past_days_in_once_alongside_the_poller(stage):
    async def first_two_days(shop: Shop) -> None:
        await shop.sales(5)
        await shop.declines(1)
        await shop.settle()
        stage.paytrace.clock.advance(86_400)
        await shop.sales(4)
        await shop.refunds(2)  # of day one's settled sales
        await shop.settle()

    at_paytrace(stage, first_two_days)
    fetched, new, known = backfill(stage, DAY1, DAY2)
    assert fetched > 0 and (new, known) == (fetched, 0)
    lines_after_two_days = d365_lines(stage)
    assert sum(lines_after_two_days.values()) == 5 + 4 + 2

    async def today(shop: Shop) -> None:
        stage.paytrace.clock.advance_to(datetime.combine(DAY3, datetime.min.time(), PACIFIC))
        await shop.sales(3)
        await shop.voids(1)

    at_paytrace(stage, today)
    assert poll_once(stage) > 0  # today's payments, and the settled states of earlier ones
    fetched, new, known = backfill(stage, DAY1, DAY3)
    assert (new, known) == (0, fetched)  # the poller had brought everything in already
    again = backfill(stage, DAY1, DAY3)
    assert again == (fetched, 0, fetched)

    expected = paytrace_expects(stage, [DAY1, DAY2, DAY3])
    lines = d365_lines(stage)
    assert set(lines) == set(expected)
    assert all(count == 1 for count in lines.values()), lines
    assert len(expected) == 5 + 4 + 2 + 3 - 1
