"""The D365 sandbox in its own process, for benchmarks and chaos runs that need both cores."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from payledger.bench.postgres import free_port


@dataclass
class SandboxProcess:
    url: str
    certificate: Path

    def _http(self) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.certificate))
        return httpx.Client(base_url=self.url, verify=trust, timeout=30)

    def set_faults(self, **settings: Any) -> None:
        with self._http() as http:
            http.put("/_sandbox/faults", json=settings).raise_for_status()

    def counts(self) -> dict[str, int]:
        with self._http() as http:
            counts: dict[str, int] = http.get("/_sandbox/faults").json()["counts"]
            return counts

    def rows(self, entity_set: str, company: str = "usmf") -> list[dict[str, Any]]:
        with self._http() as http:
            answer = http.get(f"/_sandbox/state/{entity_set}", params={"company": company}).json()
        rows: list[dict[str, Any]] = answer if isinstance(answer, list) else answer["value"]
        return rows


@contextmanager
def d365_sandbox_process(workdir: Path) -> Iterator[SandboxProcess]:
    """``payledger sandbox`` serving only D365 (https) on a free port, stopped afterwards."""
    port, tls = free_port(), workdir / "tls"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "payledger.cli.main",
            "sandbox",
            "--paytrace-port",
            "0",
            "--d365-port",
            str(port),
            "--tls-dir",
            str(tls),
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sandbox = SandboxProcess(f"https://127.0.0.1:{port}", tls / "sandbox-cert.pem")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sandbox.counts()
                break
            except (httpx.TransportError, OSError, ssl.SSLError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the D365 sandbox did not start") from None
                time.sleep(0.1)
        yield sandbox
    finally:
        proc.terminate()
        proc.wait(timeout=30)
