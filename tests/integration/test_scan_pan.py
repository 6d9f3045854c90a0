"""``payledger scan-pan`` finds every stored value and log line the card detector would refuse,
in every table, and names each place with its masked card; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
)
from typer.testing import CliRunner

from payledger.adapters.db import tables
from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.scan import scan_database
from payledger.cli.main import app
from payledger.domain.card_data import redact_card_numbers

NOW = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
FULLWIDTH_5454 = "".join(chr(0xFF10 + int(d)) for d in "5454545454545454")
CLEAN_PAYLOAD = {
    "request_id": "d69a3895-2f40-4615-8792-183c7d8214b3",  # holds a card-like digit run
    "at": "2026-03-16 22:32:15.804102+05:30",
    "amounts": "12.50, 3.75, 4,500.00",
    "from": "71.30.39.202, 225.23.39.73",
}

# (table, row values, (place, what) the scan must report)
PLANTED: list[tuple[Table, dict[str, Any], list[tuple[str, str]]]] = [
    (tables.inbox, {"source": "x", "external_id": "clean", "payload": CLEAN_PAYLOAD}, []),
    (
        tables.inbox,
        {
            "source": "x",
            "external_id": "y",
            "payload": {"amount": 4111111111111111.0},
            "last_error": "declined: 2 4111111111111111 12/30",
        },
        [
            ("inbox.payload (row 2)", "[card ****1111]"),
            ("inbox.last_error (row 2)", "[card ****1111]"),
        ],
    ),
    (
        tables.jobs,
        {
            "kind": "k",
            "status": "pending",
            "max_attempts": 3,
            "payload": {"note": f"card {FULLWIDTH_5454}"},  # stored JSON-escaped on SQLite
            "history": [{"6011 0009 9302 6909": "a card as a key"}],
        },
        [
            ("jobs.payload (row 1)", "[card ****5454]"),
            ("jobs.history (row 1)", "[card ****6909]"),
        ],
    ),
    (
        tables.alerts,
        {
            "key": "pan-alert",
            "severity": "high",
            "title": "t",
            "facts": {},
            "last_at": NOW,
            "text": "card 4111_1111_1111_1111 seen",
        },
        [("alerts.text (row pan-alert)", "[card ****1111]")],
    ),
    (
        tables.recon_items,
        {"run_id": 1, "class": "matched", "exception": 0, "note": "3782\t822463\t10005 1234"},
        [("recon_items.note (row 1)", "[card ****0005]")],
    ),
    (
        tables.business_events,
        {
            "event_id": "e1",
            "business_event_id": "b",
            "payload": {},
            "status": "received",
            "control_number": 4111111111111111,
        },
        [("business_events.control_number (row 1)", "[card ****1111]")],
    ),
    (
        tables.audit_log,
        {"actor": "a", "action": "b", "subject": "c", "detail": {"card": {"cvv": "123"}}},
        [("audit_log.detail (row 1)", "[field cvv]")],
    ),
    (
        tables.api_payments,
        {
            "gateway_txn_id": "1",
            "client": "c",
            "kind": "sale",
            "status": "ok",
            "amount": "5.00",
            "currency": "USD",
            "message": "swipe %B4111111111111111^DOE/JOHN^2812101?",
        },
        [("api_payments.message (row 1)", "[track data]")],
    ),
]
LOG_LINES = [
    (json.dumps({"event": "payment.posted", "id": 123456789, **CLEAN_PAYLOAD}), None),
    ('{"event": "oops", "note": "4111.1111.1111.1111"}', "[card ****1111]"),
    (json.dumps({"event": "oops", "note": FULLWIDTH_5454}), "[card ****5454]"),  # \\uff15...
    ("charged 5454 5454 5454 5454 ok", "[card ****5454]"),
]


async def plant(url: str, rows: list[tuple[Table, dict[str, Any]]]) -> None:
    database = Database(url)
    await migrate(database)
    async with database.engine.begin() as conn:
        for table, values in rows:
            await conn.execute(table.insert().values(_filled(table, values)))
    await database.dispose()


def _filled(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus a timestamp in every date column left out (all are required)."""
    dates = {c.name: NOW for c in table.columns if "DateTime" in repr(c.type)}
    return dates | values


def test_every_planted_card_is_reported_with_its_place_and_mask(database_url, tmp_path):
    asyncio.run(plant(database_url, [(table, values) for table, values, _ in PLANTED]))
    (tmp_path / "old.log").write_text("\n".join(line for line, _ in LOG_LINES) + "\n")
    result = scan_pan(tmp_path, database_url)

    assert result.exit_code == 1, result.output
    expected = [hit for _, _, hits in PLANTED for hit in hits]
    expected += [(f"old.log:{n}", what) for n, (_, what) in enumerate(LOG_LINES, 1) if what]
    rows = reported_rows(result.output)
    assert len(rows) == len(expected), rows
    for place, what in expected:
        assert any(row[0].endswith(place) and row[1] == what for row in rows), (place, what)
    assert f"{len(expected)} card-data hit(s)" in result.output
    assert "4111" not in result.output.replace("****1111", "")


def test_a_clean_database_and_log_give_exit_0(database_url, tmp_path):
    asyncio.run(plant(database_url, [(tables.inbox, PLANTED[0][1])]))
    (tmp_path / "old.log").write_text(LOG_LINES[0][0] + "\n")
    result = scan_pan(tmp_path, database_url)
    assert result.exit_code == 0, result.output
    assert "0 card-data hits" in result.output


async def test_every_text_json_and_bigint_column_of_every_table_is_scanned(database):
    """A card planted in each such column of each table is found there: no table is missed."""
    async with database.engine.begin() as conn:
        expected = []
        for table in tables.metadata.sorted_tables:
            for n, target in enumerate(table.columns):
                if (card := _card_for(target)) is not None:
                    row = _generic_row(table, n, target, card)
                    result = await conn.execute(table.insert().values(row))
                    key = redact_card_numbers(str(result.inserted_primary_key[0]))
                    expected.append(f"{table.name}.{target.name} (row {key})")
    hits = [hit async for hit in scan_database(database)]
    assert sorted(hit.place for hit in hits) == sorted(expected)
    assert {hit.what for hit in hits} == {"[card ****1111]"}
    assert len({place.split(" ")[0].split(".")[0] for place in expected}) >= 15  # every table


def _card_for(column: Column[Any]) -> Any:
    length = getattr(column.type, "length", None)
    if column.primary_key and isinstance(column.type, Integer):
        return None  # the row id
    if isinstance(column.type, JSON):
        return {"n": 4111111111111111}
    if isinstance(column.type, BigInteger):
        return 4111111111111111
    if isinstance(column.type, String) and (length is None or length >= 16):
        return "4111111111111111"
    return None


def _generic_row(table: Table, n: int, target: Column[Any], card: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in table.columns:
        if column is target:
            row[column.name] = card
        elif column.primary_key and isinstance(column.type, Integer):
            continue
        elif isinstance(column.type, JSON):
            row[column.name] = {}
        elif isinstance(column.type, LargeBinary):
            row[column.name] = b"x"
        elif "DateTime" in repr(column.type) or isinstance(column.type, DateTime):
            row[column.name] = NOW
        elif isinstance(column.type, Integer):
            row[column.name] = n * 1000 + len(row)
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Float):  # a score: holds no card number
            row[column.name] = 0.5
        else:  # short and unique per row
            row[column.name] = f"{n:x}{len(row):x}"[: getattr(column.type, "length", None)]
    return row


def scan_pan(workdir: Path, database_url: str):
    config = workdir / "payledger.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n[vault]\nkey_file = "{workdir}/master.key"\n'
        '[logging]\nfile = ""\n'
    )
    log = str(workdir / "old.log")
    return CliRunner().invoke(app, ["--config", str(config), "scan-pan", "--log", log])


def reported_rows(output: str) -> list[tuple[str, str]]:
    """(where, what) of each row of the table scan-pan prints."""
    cells = (re.split(r"\s*│\s*", line.strip("│ ")) for line in output.splitlines())
    return [(c[0], c[1]) for c in cells if len(c) == 2 and c[0] not in ("", "where")]
