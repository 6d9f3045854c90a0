"""Scanning everything payledger stored for card data (``payledger scan-pan``).

Every column of every table in the schema is read, except dates and times (typed, so they
cannot hold card data) and binary ones (encrypted secrets): strings, texts, JSON documents and
integers. Values are read as the text the database holds, so a value its column type could not
decode is read all the same. A hit names the table, the column and the row's primary key.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Interval,
    LargeBinary,
    Text,
    Time,
    TypeDecorator,
    cast,
    select,
)

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import metadata
from payledger.domain.card_data import card_data_findings, masked_card_data, redact_card_numbers


@dataclass(frozen=True)
class CardDataHit:
    """Where card data was found (``inbox.payload (row 7)``, ``app.log:12``) and what, masked."""

    place: str
    what: str


async def scan_database(database: Database) -> AsyncIterator[CardDataHit]:
    """Every value of every table the detector would refuse, table by table, row by row."""
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if _may_hold_card_data(column)]
        keys = list(table.primary_key.columns)
        if not columns:
            continue
        query = select(*keys, *(cast(column, Text) for column in columns))
        async with database.engine.connect() as conn:
            result = await conn.stream(query)
            async for row in result:
                # masked too: a key could be the very card number found in it
                row_id = redact_card_numbers(", ".join(str(v) for v in row[: len(keys)]))
                for column, value in zip(columns, row[len(keys) :], strict=True):
                    if value is not None and (found := stored_card_data(value)):
                        place = f"{table.name}.{column.name} (row {row_id})"
                        yield CardDataHit(place, ", ".join(found))


def _may_hold_card_data(column: Column[Any]) -> bool:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    return not isinstance(kind, DateTime | Date | Time | Interval | LargeBinary | Boolean)


def stored_card_data(text: str) -> list[str]:
    """The card data in a stored or logged ``text``, masked (``[card ****1111]``): in the text
    itself and, when it is a JSON document, in its values, keys and field names, which the text
    may hold escaped (``\\uff14``) or as numbers in exponent form."""
    found = masked_card_data(text)
    if text.lstrip()[:1] in ("{", "["):
        try:
            document = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):
            document = None
        found += [finding.what for finding in card_data_findings(document)]
    return list(dict.fromkeys(found))
