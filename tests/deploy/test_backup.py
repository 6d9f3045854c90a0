"""``payledger backup DEST``: a consistent, verified copy of the SQLite database taken while a
writer goes on writing; on PostgreSQL it points to pg_dump and exits 2."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from payledger.cli.main import app


def backup(*args: str, url: str):
    return CliRunner().invoke(
        app, ["backup", *args], env={"PAYLEDGER_DATABASE__URL": url, "COLUMNS": "200"}
    )


def rows(database: Path) -> tuple[int, int, list[str]]:
    with sqlite3.connect(database) as copy:
        orders = copy.execute("SELECT count(*) FROM orders").fetchone()[0]
        lines = copy.execute("SELECT count(*) FROM lines").fetchone()[0]
        check = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    return orders, lines, check


def create_tables(path: Path) -> None:
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)")
        setup.execute("CREATE TABLE lines (order_id INTEGER, n INTEGER, note TEXT)")


@pytest.fixture
def live_database(tmp_path):
    """A WAL database and a writer thread committing an order and its two lines at a time."""
    path = tmp_path / "var/payledger.db"
    path.parent.mkdir()
    create_tables(path)
    stop, written = threading.Event(), []

    def write() -> None:
        writer = sqlite3.connect(path, timeout=10, isolation_level=None)
        writer.execute("PRAGMA synchronous=NORMAL")
        while not stop.is_set():
            writer.execute("BEGIN IMMEDIATE")
            order = writer.execute("INSERT INTO orders (note) VALUES (?)", ["x" * 500]).lastrowid
            for n in (1, 2):
                writer.execute("INSERT INTO lines VALUES (?, ?, ?)", [order, n, "y" * 500])
            writer.execute("COMMIT")
            written.append(order)
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    while len(written) < 500:  # enough pages that the copy takes a while
        stop.wait(0.01)
    yield path, written
    stop.set()
    thread.join()


def test_a_backup_taken_while_a_writer_writes_is_consistent_and_verified(live_database, tmp_path):
    source, written = live_database
    destination = tmp_path / "backups/payledger-today.db"
    before = len(written)

    result = backup(str(destination), url=f"sqlite:///{source}")
    after = len(written)

    assert result.exit_code == 0, result.output
    orders, lines, check = rows(destination)
    assert check == ["ok"]
    assert lines == 2 * orders  # one snapshot: no order without both its lines
    assert before <= orders <= after
    assert after > before, "the writer was not writing during the backup"
    assert f"{destination.stat().st_size:,} bytes, integrity ok" in result.output
    assert destination.stat().st_mode & 0o077 == 0
    assert not list(destination.parent.glob(".*partial"))


def test_a_backup_does_not_replace_an_existing_file_unless_told(tmp_path):
    source = tmp_path / "payledger.db"
    create_tables(source)
    destination = tmp_path / "copy.db"
    destination.write_text("yesterday's copy")

    refused = backup(str(destination), url=f"sqlite:///{source}")
    assert refused.exit_code == 2
    assert "exists; choose a new name or add --overwrite" in refused.output
    assert destination.read_text() == "yesterday's copy"

    replaced = backup(str(destination), "--overwrite", url=f"sqlite:///{source}")
    assert replaced.exit_code == 0, replaced.output
    assert rows(destination)[2] == ["ok"]


def test_a_missing_database_is_named_and_nothing_is_written(tmp_path):
    missing = tmp_path / "nowhere.db"
    result = backup(str(tmp_path / "copy.db"), url=f"sqlite:///{missing}")
    assert result.exit_code == 2
    assert f"there is no database at {missing}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_on_postgresql_it_points_to_pg_dump_and_exits_2(tmp_path):
    result = backup(str(tmp_path / "copy.db"), url="postgresql://payledger@db/payledger")
    assert result.exit_code == 2
    assert "on PostgreSQL use pg_dump" in result.output
    assert not (tmp_path / "copy.db").exists()
