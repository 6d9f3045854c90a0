"""``payledger serve`` as an operator runs it, against the PayTrace sandbox in its own process:
real uvicorn on a free port, an embedded SQLite database and a JSON log file in ``workdir``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

from payledger.adapters.paytrace import PayTraceClient, PayTraceEncryptedCard
from payledger.bench.postgres import free_port
from payledger.bench.sandbox_process import (
    SandboxProcess,
    d365_sandbox_process,
    paytrace_sandbox_process,
)
from payledger.sandbox.paytrace import encrypt_field
from payledger.web.signatures import sign

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"live-service-webhook-key-000001").decode()
DATABASE = Path("var/payledger.db")
LOG = Path("var/log/payledger.log")


def payledger(workdir: Path, *args: str, stdin: str = "", timeout: int = 120):
    """One ``payledger`` command in ``workdir`` (its ``payledger.toml``), outside the test's
    environment overrides."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    return subprocess.run(
        [*PAYLEDGER, *args],
        cwd=workdir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


@dataclass
class LiveService:
    url: str
    paytrace_url: str
    workdir: Path
    sent: int = 0

    def signed(self, body: bytes, **headers: str) -> dict[str, str]:
        self.sent += 1
        message_id, stamp = f"msg_live_{self.sent:06d}", int(time.time())
        return {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(WEBHOOK_SECRET, message_id, stamp, body),
            **headers,
        }

    def hint(self, http: httpx.Client, transaction_id: int) -> httpx.Response:
        body = json.dumps(
            {"type": "transaction.created", "data": {"transaction_id": transaction_id}}
        ).encode()
        return http.post("/webhooks/paytrace", content=body, headers=self.signed(body))

    def sale(self, amount: str = "25.00") -> int:
        """A keyed sale at the sandbox, as a shop's front end makes it (card encrypted)."""

        async def charge() -> int:
            card = PayTraceEncryptedCard(
                encrypted_number=encrypt_field("4012000098765439"),
                expiration_month=12,
                expiration_year=2030,
            )
            async with PayTraceClient(self.paytrace_url, "demo123", "demo123", "shop") as shop:
                result = await shop.sale_keyed(Decimal(amount), card)
            assert result.transaction_id is not None
            return result.transaction_id

        return asyncio.run(charge())


def _config(paytrace_url: str, port: int, d365: SandboxProcess | None) -> str:
    config = (
        f'[database]\nurl = "sqlite:///{DATABASE}"\n'
        f'[logging]\nfile = "{LOG}"\nformat = "json"\nlevel = "INFO"\n'
        f"[service]\nport = {port}\nembedded_worker = false\n"
        f'[paytrace]\nbase_url = "{paytrace_url}"\nusername = "demo123"\n'
        'integrator_id = "payledger-e2e"\n'
    )
    if d365 is not None:
        config += (
            f'[d365]\nenabled = true\nbase_url = "{d365.url}"\nauthority_host = "{d365.url}"\n'
            'tenant = "payledger-sandbox"\nclient_id = "payledger-client"\n'
            f'ca_file = "{d365.certificate}"\n'
        )
    return config


def _wait_until_ready(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve never became ready")


@contextmanager
def live_service(workdir: Path, *, with_d365: bool = False) -> Iterator[LiveService]:
    """The PayTrace sandbox (and with ``with_d365`` the D365 one) and ``payledger serve`` (no
    embedded worker), with every secret in the vault; all stopped when the block ends."""
    with contextlib.ExitStack() as stack:
        paytrace_url = stack.enter_context(paytrace_sandbox_process(workdir))
        d365 = stack.enter_context(d365_sandbox_process(workdir)) if with_d365 else None
        port = free_port()
        (workdir / "payledger.toml").write_text(_config(paytrace_url, port, d365))
        assert payledger(workdir, "migrate").returncode == 0
        for name, value in (
            ("paytrace-password", "demo123"),
            ("paytrace-webhook-secret", WEBHOOK_SECRET),
            ("d365-client-secret", "payledger-secret"),
        ):
            stored = payledger(workdir, "secrets", "set", name, stdin=value)
            assert stored.returncode == 0, stored.stderr
        stack.enter_context(_serving(workdir, port))
        yield LiveService(f"http://127.0.0.1:{port}", paytrace_url, workdir)


@contextmanager
def _serving(workdir: Path, port: int) -> Iterator[None]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    proc = subprocess.Popen(
        [*PAYLEDGER, "serve"],
        cwd=workdir,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}", proc)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
