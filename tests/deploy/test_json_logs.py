"""``payledger worker`` (and ``serve``, same set-up) logs JSON lines when its log stream is a
pipe, as under a container engine or systemd, and readable lines on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main", "worker"]
STARTED = "Running upgrade"  # the embedded database's migration logs at start-up


def environment(**settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAYLEDGER_")}
    return {**clean, "PAYLEDGER_LOGGING__FILE": "", **settings}


def logged_through_pipes(workdir: Path, **settings: str) -> list[str]:
    """Everything the worker wrote to stderr from start to a SIGTERM after start-up."""
    with subprocess.Popen(
        PAYLEDGER, cwd=workdir, env=environment(**settings),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:  # fmt: skip
        assert process.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(STARTED in line for line in lines):
            line = process.stderr.readline().decode()
            if not line:
                break
            lines.append(line)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    return [line for line in [*lines, *rest.decode().splitlines()] if line.strip()]


def logged_on_a_terminal(workdir: Path, **settings: str) -> str:
    """What the worker wrote to a terminal (stdout and stderr) until start-up was logged."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        PAYLEDGER, cwd=workdir, env=environment(**settings),
        stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
    ) as process:  # fmt: skip
        os.close(follower)
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and STARTED.encode() not in seen:
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:  # the terminal closed: the process ended
                    break
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    os.close(leader)
    return seen.decode(errors="replace")


def test_lines_on_a_pipe_are_json_with_level_event_and_timestamp(tmp_path):
    lines = logged_through_pipes(tmp_path)
    assert any(STARTED in line for line in lines), lines
    for line in lines:
        entry = json.loads(line)
        assert {"level", "event", "timestamp"} <= entry.keys(), line
        assert entry["timestamp"].endswith("Z")


def test_lines_on_a_terminal_are_for_people(tmp_path):
    text = logged_on_a_terminal(tmp_path)
    logged = [line for line in text.splitlines() if STARTED in line]
    assert logged, text
    assert not any(line.lstrip().startswith("{") for line in logged)
    assert "[info" in logged[0]


def test_a_format_set_in_the_configuration_holds_on_a_terminal(tmp_path):
    text = logged_on_a_terminal(tmp_path, PAYLEDGER_LOGGING__FORMAT="json")
    logged = [line for line in text.splitlines() if STARTED in line]
    assert logged, text
    assert json.loads(logged[0])["level"] == "info"
