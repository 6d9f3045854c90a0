"""``payledger bench startup``: what a command costs before it does anything.

Each measured command runs in a fresh interpreter. Its CPU time (user + system) and peak RSS
come from ``os.wait4`` on that process alone, read by a small go-between process (``python
-S``): Linux carries a parent's resident size over into a child it forks, so measuring straight
from this (large) process would report this process's size, not the command's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

COMMANDS: tuple[tuple[str, ...], ...] = (("--help",), ("status", "--help"))
"""What is measured: the bare listing, and one command's own help (which loads that command)."""

_GO_BETWEEN = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
                  time.perf_counter() - started, usage.ru_maxrss]))
"""


@dataclass(frozen=True)
class StartupFigure:
    """Medians over ``runs`` fresh processes of ``payledger <args>``."""

    args: tuple[str, ...]
    runs: int
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mib: float


def _once(args: tuple[str, ...]) -> tuple[float, float, float]:
    command = [sys.executable, "-m", "payledger.cli.main", *args]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    environment["COLUMNS"] = "100"
    answer = subprocess.run(
        [sys.executable, "-S", "-c", _GO_BETWEEN, *command],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    code, cpu, wall, rss_kib = json.loads(answer.stdout.splitlines()[-1])
    if code != 0:
        raise RuntimeError(f"payledger {' '.join(args)} exited {code}")
    return cpu, wall, rss_kib / 1024


def measure(args: tuple[str, ...], runs: int = 5) -> StartupFigure:
    """The median CPU seconds, wall seconds and peak RSS of ``payledger <args>``."""
    samples = [_once(args) for _ in range(runs)]
    cpu, wall, rss = (statistics.median(column) for column in zip(*samples, strict=True))
    return StartupFigure(args, runs, cpu, wall, rss)
