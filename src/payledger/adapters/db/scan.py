"""Scanning everything payledger stored for card data (``payledger scan-pan``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import JSON, String, Text, select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import metadata
from payledger.domain.card_data import find_card_numbers, holds_card_data, mask


@dataclass(frozen=True)
class CardDataHit:
    """Where card data was found; ``sample`` is masked."""

    place: str
    sample: str


async def scan_database(database: Database, *, chunk: int = 5000) -> AsyncIterator[CardDataHit]:
    """Every text and JSON value in every table, checked for card numbers and track data."""
    for table in metadata.sorted_tables:
        columns = [
            c for c in table.columns if isinstance(c.type, String | Text | JSON) or _is_json(c)
        ]
        if not columns:
            continue
        key = next(iter(table.primary_key.columns))
        async with database.engine.connect() as conn:
            result = await conn.stream(select(key, *columns))
            async for row in result:
                for column, value in zip(columns, row[1:], strict=True):
                    text = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value)
                        if value is not None
                        else ""
                    )
                    if text and holds_card_data(text):
                        yield CardDataHit(
                            f"{table.name}.{column.name} (row {row[0]})", _masked(text)
                        )


def _is_json(column: object) -> bool:
    return "JSON" in type(getattr(column, "type", None)).__name__.upper()


def _masked(text: str) -> str:
    numbers = find_card_numbers(text)
    return mask(numbers[0]) if numbers else "[track data]"
