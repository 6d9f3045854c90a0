"""The stage of ``payledger bench billing``: its configuration, its worker processes (which a
chaos run SIGKILLs and replaces) and the PayTrace sandbox's transactions."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from payledger.bench.sandbox_process import SandboxProcess

if TYPE_CHECKING:
    from payledger.bench.billing import BillingBenchOptions


def bench_config(workdir: Path, database_url: str, d365: SandboxProcess, paytrace: str) -> Path:
    """payledger's configuration for the bench: both sandboxes, billing on, quick retries."""
    path = workdir / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\nbusy_timeout_ms = 60000\npool_size = 20\n'
        f'[vault]\nkey_file = "{workdir / "master.key"}"\n'
        f'[logging]\nfile = "{workdir / "payledger.log"}"\nlevel = "WARNING"\n'
        "[worker]\nconcurrency = 32\nlease_seconds = 5\npoll_interval_seconds = 0.05\n"
        "backoff_base_seconds = 0.1\nbackoff_cap_seconds = 1.0\nmax_attempts = 100\n"
        "shutdown_grace_seconds = 5\n"
        f'[paytrace]\nenabled = true\nbase_url = "{paytrace}"\nusername = "demo123"\n'
        'integrator_id = "payledger-bench"\ntimeout_seconds = 2\n'
        f'[d365]\nenabled = true\nbase_url = "{d365.url}"\nauthority_host = "{d365.url}"\n'
        'tenant = "payledger-sandbox"\nclient_id = "payledger-client"\n'
        f'ca_file = "{d365.certificate}"\ntimeout_seconds = 2\n'
        'fallback_customer_account = "US-001"\n'
        "[posting]\nmax_wait_ms = 200\nmax_lines = 100\nparallel_requests = 8\n"
        "[subscriptions]\nenabled = true\n"
    )
    return path


class BillingWorkers:
    """``payledger.bench.billing_worker`` processes that can be killed without warning and
    replaced."""

    def __init__(self, config: Path, options: BillingBenchOptions) -> None:
        self.config = config
        self.argv = [
            str(options.max_per_run),
            str(options.concurrency),
            str(options.lease_seconds),
            str(options.hold_seconds),
        ]
        self.errors: IO[bytes] = (config.parent / "workers.err").open("ab")
        self.procs = [self._start() for _ in range(options.workers)]
        self.kills = 0

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "payledger.bench.billing_worker", str(self.config), *self.argv],
            stdout=subprocess.PIPE,
            stderr=self.errors,
        )

    def wait_ready(self) -> None:
        for proc in self.procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != b"ready":
                raise RuntimeError(f"a billing worker did not start; see {self.errors.name}")

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.procs))
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait()
        self.procs[index] = self._start()
        self.kills += 1

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.errors.close()


def read_paytrace(url: str) -> list[dict[str, Any]]:
    """Every card transaction the PayTrace sandbox holds."""
    state = httpx.get(f"{url}/_sandbox/state", timeout=120).json()
    transactions: list[dict[str, Any]] = state["transactions"]
    return transactions


def set_paytrace_faults(url: str, settings: dict[str, Any]) -> None:
    httpx.put(f"{url}/_sandbox/faults", json=settings, timeout=30).raise_for_status()


def paytrace_counts(url: str) -> dict[str, int]:
    """What the PayTrace sandbox's fault injector counted (``requests``, ``errors`` ...)."""
    counts: dict[str, int] = httpx.get(f"{url}/_sandbox/faults", timeout=30).json()["counts"]
    return counts
