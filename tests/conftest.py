"""Shared fixtures: a database per test on SQLite and, when available, on PostgreSQL."""

from __future__ import annotations

import itertools
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.bench.postgres import PostgresCluster, find_server_binaries, start_cluster
from payledger.domain.clock import ManualClock
from payledger.logs import configure_logging

POSTGRES_MISSING = "PostgreSQL server binaries (initdb/pg_ctl) not found; install postgresql"
_databases = itertools.count()


@pytest.fixture(scope="session")
def signing_key_pem() -> str:
    """One RSA key for every D365 sandbox in the run (key generation is the slow part of
    start-up)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    if find_server_binaries() is None:
        pytest.skip(POSTGRES_MISSING)
    with tempfile.TemporaryDirectory(prefix="payledger-pg-") as tmp:
        cluster = start_cluster(Path(tmp) / "pg")
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster: PostgresCluster) -> str:
    """A migrated database that per-test databases are copied from."""
    import asyncio

    postgres_cluster.psql("CREATE DATABASE payledger_template")
    database = Database(postgres_cluster.url("payledger_template"))

    async def prepare() -> None:
        await migrate(database)
        await database.dispose()

    asyncio.run(prepare())
    return "payledger_template"


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster, postgres_template: str) -> str:
    name = f"test_{next(_databases)}"
    postgres_cluster.psql(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    return postgres_cluster.url(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'payledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a fresh database; every test using it runs on SQLite and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(name)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await migrate(db)
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 24, 17, 0, tzinfo=UTC))


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """payledger's JSON log (DEBUG and up) written to a file for the test to read."""
    path = tmp_path / "payledger.log"
    configure_logging(level="DEBUG", fmt="json", file=path, stderr=False)
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_payledger", False):
            root.removeHandler(handler)
            handler.close()
