"""The real service with both sandboxes, payments seeded through the poller and the posting
flow, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from payledger.bench.postgres import free_port
from payledger.bootstrap import build, reconcile_parts
from payledger.config import load_settings
from payledger.flows.reconcile_period import run_reconciliation
from payledger.stores.api_clients import ApiClients

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")
VISA = "4012000098765439"
INTEGRATOR = "9575315uXt4u"
MISSING_CUSTOMER = "US-404"
"""A customer D365 does not know yet: its payment's posting dies until someone creates it."""
HTML_NAME = "<b>Ann</b> & Co"


@dataclass
class Stack:
    url: str
    """The console, e.g. http://127.0.0.1:PORT/console."""
    config: Path
    database: Path
    paytrace: str
    d365: str
    certificate: Path
    operator_token: str
    viewer_token: str
    posted_txn: str
    """A sale whose posting reached D365."""
    dead_txn: str
    """A sale for :data:`MISSING_CUSTOMER`, whose posting is dead."""

    def rows(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.database) as db:
            return db.execute(sql, params).fetchall()

    def scalar(self, sql: str, *params: object) -> object:
        return self.rows(sql, *params)[0][0]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}


async def _prepare(config: Path) -> tuple[str, str]:
    """Migrate, store both connectors' secrets and make an operator and a viewer token, as
    ``payledger migrate``, ``secrets set`` and ``tokens create`` do."""
    container = build(load_settings(config))
    try:
        await container.prepare()
        await container.vault.set("paytrace-password", "demo123", actor="test")
        await container.vault.set("d365-client-secret", "payledger-secret", actor="test")
        tokens = ApiClients(container.clock)
        async with container.database.transaction() as conn:
            operator = await tokens.issue(conn, "ops", ["read", "operate"], actor="test")
            viewer = await tokens.issue(conn, "auditor", ["read"], actor="test")
    finally:
        await container.aclose()
    return operator.secret, viewer.secret


def _wait_for(url: str, proc: subprocess.Popen, **options: object) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args} exited early"
        try:
            httpx.get(url, timeout=1, **options)  # type: ignore[arg-type]
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_sandboxes(workdir: Path) -> tuple[subprocess.Popen, str, str]:
    """``payledger sandbox`` in ``workdir`` on free ports, once both answer: the process, the
    PayTrace sandbox's URL and the D365 sandbox's (TLS) URL."""
    pt_port, d365_port = free_port(), free_port()
    sandboxes = subprocess.Popen(
        [*PAYLEDGER, "sandbox", "--paytrace-port", str(pt_port), "--d365-port", str(d365_port)],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    paytrace, d365 = f"http://127.0.0.1:{pt_port}", f"https://127.0.0.1:{d365_port}"
    try:
        _wait_for(f"{paytrace}/_sandbox/clock", sandboxes)
        _wait_for(f"{d365}/data/$metadata", sandboxes, verify=False)
    except BaseException:
        _stop(sandboxes)
        raise
    return sandboxes, paytrace, d365


def start_service(workdir: Path, port: int) -> subprocess.Popen:
    """``payledger serve`` in ``workdir`` once it is ready; fails with its output if never."""
    output = (workdir / "serve.out").open("w")
    service = subprocess.Popen(
        [*PAYLEDGER, "serve", "--port", str(port)],
        cwd=workdir,
        env=_env(),
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    output.close()
    try:
        _wait_for(f"http://127.0.0.1:{port}/readyz", service)
    except AssertionError as exc:
        _stop(service)
        raise AssertionError(f"{exc}: {(workdir / 'serve.out').read_text()[-3000:]}") from None
    return service


def paytrace_token(paytrace: str) -> str:
    """An OAuth token for the PayTrace sandbox's demo merchant."""
    return str(
        httpx.post(
            f"{paytrace}/oauth/token",
            data={"grant_type": "password", "username": "demo123", "password": "demo123"},
        ).json()["access_token"]
    )


def launched_chromium() -> Iterator[Any]:
    """Debian's chromium, headless, under Playwright, closed when the caller is done."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _sale(paytrace: str, token: str, amount: str, customer: str, invoice: str) -> str:
    sale = httpx.post(
        f"{paytrace}/v1/transactions/sale/keyed",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "integrator_id": INTEGRATOR,
            "amount": amount,
            "invoice_id": invoice,
            "credit_card": {"number": VISA, "expiration_month": "12", "expiration_year": "2030"},
            "billing_address": {"name": HTML_NAME},
            "discretionary_data": {"D365 Customer": customer},
        },
    ).json()
    assert sale["success"], sale
    return str(sale["transaction_id"])


def base_config(workdir: Path, paytrace: str, d365: str) -> str:
    """``payledger.toml`` for a service in ``workdir`` talking to both sandboxes (whose TLS
    certificate ``payledger sandbox`` writes there); callers append their own sections."""
    return f"""
[database]
url = "sqlite:///{workdir}/var/payledger.db"
[vault]
key_file = "{workdir}/var/master.key"
[worker]
poll_interval_seconds = 0.05
backoff_base_seconds = 0.05
[logging]
file = "{workdir}/var/log/payledger.log"
[paytrace]
enabled = true
base_url = "{paytrace}"
username = "demo123"
integrator_id = "{INTEGRATOR}"
[d365]
enabled = true
base_url = "{d365}"
authority_host = "{d365}"
tenant = "payledger-sandbox"
client_id = "payledger-client"
ca_file = "{workdir}/var/sandbox-tls/sandbox-cert.pem"
"""


def _config(workdir: Path, paytrace: str, d365: str, post: str) -> str:
    return (
        base_config(workdir, paytrace, d365)
        + f"""[posting]
post = "{post}"
max_wait_ms = 100
lookup_ttl_seconds = 0
[reconcile]
auto_heal = false
"""
    )


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` in a thread of its own: Playwright's sync API may already run an
    event loop in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def reconcile_today(stack: Stack) -> int:
    """Run a reconciliation of today (Pacific) as ``payledger reconcile`` does; its run id."""
    container = build(load_settings(stack.config))
    try:
        today = datetime.now(ZoneInfo("America/Los_Angeles")).date()
        parts = await reconcile_parts(container)
        result = await run_reconciliation(today, today, parts, trigger="test")
    finally:
        await container.aclose()
    return result.run_id


def wait_until(condition, what: str, within: float = 60) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """The service and both sandboxes; a test module's ``POST_MODE`` sets ``[posting] post``."""
    post = getattr(request.module, "POST_MODE", "never")
    workdir = tmp_path_factory.mktemp("console")
    port = free_port()
    sandboxes, paytrace, d365 = start_sandboxes(workdir)
    service: subprocess.Popen | None = None
    try:
        certificate = workdir / "var/sandbox-tls/sandbox-cert.pem"
        token = paytrace_token(paytrace)
        posted = _sale(paytrace, token, "42.00", "US-001", "INV-42")
        _sale(paytrace, token, "17.25", "US-002", "INV-43")
        dead = _sale(paytrace, token, "99.99", MISSING_CUSTOMER, "INV-44")

        config = workdir / "payledger.toml"
        config.write_text(_config(workdir, paytrace, d365, post))
        operator, viewer = in_own_loop(_prepare(config))

        service = start_service(workdir, port)
        built = Stack(
            url=f"http://127.0.0.1:{port}/console",
            config=config,
            database=workdir / "var/payledger.db",
            paytrace=paytrace,
            d365=d365,
            certificate=certificate,
            operator_token=operator,
            viewer_token=viewer,
            posted_txn=posted,
            dead_txn=dead,
        )
        # The embedded scheduler polls PayTrace at start; the worker posts to D365.
        wait_until(
            lambda: (
                built.rows("SELECT state, count(*) FROM postings GROUP BY state")
                == [("dead", 1), ("posted", 2)]
            ),
            "two postings posted and one dead",
        )
        yield built
    finally:
        if service is not None:
            _stop(service)
        _stop(sandboxes)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; "
            ".ci/run does) to run the console's browser tests"
        )
    yield from launched_chromium()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def d365_tls(stack: Stack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.certificate))


def d365_token(stack: Stack) -> str:
    grant = httpx.post(
        f"{stack.d365}/payledger-sandbox/oauth2/v2.0/token",
        verify=d365_tls(stack),
        data={
            "grant_type": "client_credentials",
            "client_id": "payledger-client",
            "client_secret": "payledger-secret",
            "scope": f"{stack.d365}/.default",
        },
    ).json()
    return str(grant["access_token"])
