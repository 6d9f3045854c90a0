"""The image builds, runs ``payledger serve`` on SQLite as a non-root user, turns healthy and
answers ``GET /healthz``: only where a container engine answers (``docker info``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

import httpx
import pytest

from tests.deploy.surface import ROOT

pytestmark = pytest.mark.slow


def engine_unavailable() -> str | None:
    """Why no container can run here, or None when ``docker info`` answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker client on PATH"
    try:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 30 s"
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["no output"])[-1]
        return f"docker info failed (no container engine running?): {last}"
    return None


def docker(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def image():
    if reason := engine_unavailable():
        pytest.skip(reason)
    tag = f"payledger:test-{uuid.uuid4().hex[:8]}"
    docker("build", "--tag", tag, str(ROOT), timeout=1800)
    yield tag
    subprocess.run(["docker", "rmi", "--force", tag], capture_output=True, timeout=120)


def test_the_image_serves_healthz_on_sqlite_as_a_non_root_user(image):
    container = docker(
        "run", "--detach", "--publish", "127.0.0.1::8800",
        "--health-interval", "2s", "--health-start-period", "60s",
        "--env", "PAYLEDGER_LOGGING__FILE=",
        image, "serve",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        health = ""
        while time.monotonic() < deadline and health != "healthy":
            time.sleep(1)
            state = json.loads(docker("inspect", "--format", "{{json .State}}", container))
            assert state["Running"], docker("logs", container)
            health = state.get("Health", {}).get("Status", "")
        assert health == "healthy", docker("logs", container)
        address = docker("port", container, "8800/tcp").splitlines()[0]
        answer = httpx.get(f"http://{address}/healthz", timeout=10)
        assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
        assert docker("exec", container, "id", "-u") != "0"
        logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
        assert json.loads(logs.stderr.splitlines()[0])["level"]  # not a terminal: JSON lines
    finally:
        subprocess.run(["docker", "rm", "--force", container], capture_output=True, timeout=60)
