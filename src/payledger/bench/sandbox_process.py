"""The sandboxes in their own processes, for benchmarks, chaos runs and end-to-end tests that
need both cores (or a real process boundary)."""

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
        deadline = time.monotonic() + 120
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


@contextmanager
def paytrace_sandbox_process(workdir: Path, *, seed: int = 0) -> Iterator[str]:
    """``payledger sandbox`` serving only PayTrace (http) on a free port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "payledger.cli.main",
            "sandbox",
            "--paytrace-port",
            str(port),
            "--d365-port",
            "0",
            "--seed",
            str(seed),
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/_sandbox/clock", timeout=2).raise_for_status()
                break
            except (httpx.TransportError, OSError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the PayTrace sandbox did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
