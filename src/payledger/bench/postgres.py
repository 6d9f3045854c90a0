"""A throwaway PostgreSQL cluster (initdb + pg_ctl, temp dir, free port) for benches and tests."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

_SEARCH = [Path("/usr/lib/postgresql")]


def find_server_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is absent."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    for root in _SEARCH:
        for version in sorted(root.glob("*/bin"), reverse=True):
            if (version / "initdb").exists() and (version / "pg_ctl").exists():
                return version
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    bindir: Path
    datadir: Path
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        self._run(
            [
                str(self.bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ]
        )

    def stop(self) -> None:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"])

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(
            _as_postgres_user(argv), capture_output=True, text=True, timeout=120, cwd="/"
        )
        if done.returncode:
            raise RuntimeError(
                f"{argv[0]} failed ({done.returncode}): {done.stderr or done.stdout}"
            )


def _as_postgres_user(argv: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, so drop to the "postgres" system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _let_others_traverse(directory: Path) -> None:
    """Give "search" permission on ``directory`` and its ancestors, so the postgres user can
    reach a cluster made inside root's private temporary directories."""
    for path in (directory, *directory.parents):
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(path, stat.S_IMODE(mode) | stat.S_IXOTH)


def start_cluster(base: Path, *, durable: bool = False) -> PostgresCluster:
    """Start a cluster under ``base``; ``durable=False`` turns fsync off (fine for tests only)."""
    bindir = find_server_binaries()
    assert bindir is not None
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _let_others_traverse(base.parent)
        shutil.chown(base, user="postgres")
        os.chmod(base, 0o700)
    datadir = base / "data"
    port = free_port()
    cluster = PostgresCluster(bindir, datadir, port, user)
    cluster._run(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    cluster._run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    return cluster
