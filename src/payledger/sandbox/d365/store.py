"""In-memory tables with RecId/RecVersion per row, ETags and all-or-nothing snapshots."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from payledger.sandbox.d365.catalog import Catalog, EntityType

FIRST_REC_ID = 5637144576


@dataclass
class Record:
    """One stored row: the values that were set (defaults are filled when read)."""

    values: dict[str, Any]
    rec_id: int
    version: int = 1

    def etag(self, datasources: int) -> str:
        """``W/"<base64('RecVersion,RecId;0,0...')>"``, as F&O builds it (fact sheet 3.2)."""
        pairs = ";".join([f"{self.version},{self.rec_id}"] + ["0,0"] * (datasources - 1))
        return 'W/"' + base64.b64encode(f"'{pairs}'".encode()).decode() + '"'


def normalize_key_part(value: Any) -> Any:
    """Key comparison is case-insensitive for strings, as on F&O's SQL collation."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return value


@dataclass
class Table:
    entity: EntityType
    records: dict[tuple[Any, ...], Record] = field(default_factory=dict)

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(normalize_key_part(values.get(k)) for k in self.entity.keys)

    def get(self, key_values: dict[str, Any]) -> Record | None:
        return self.records.get(self.key_of(key_values))

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self.records.values()))


@dataclass
class Store:
    """Every table plus number sequences and the RecId counter."""

    catalog: Catalog
    tables: dict[str, Table] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    next_rec_id: int = FIRST_REC_ID
    version_counter: int = 1

    def __post_init__(self) -> None:
        for name, entity in self.catalog.entities.items():
            self.tables.setdefault(name, Table(entity))

    def table(self, set_name: str) -> Table:
        return self.tables[set_name]

    def insert(self, set_name: str, values: dict[str, Any]) -> Record:
        record = Record(dict(values), self.next_rec_id)
        self.next_rec_id += 1
        table = self.tables[set_name]
        table.records[table.key_of(values)] = record
        return record

    def replace(self, set_name: str, record: Record, values: dict[str, Any]) -> Record:
        table = self.tables[set_name]
        old_key = table.key_of(record.values)
        self.version_counter += 1
        updated = Record(dict(values), record.rec_id, record.version + 7919 * self.version_counter)
        if table.key_of(values) != old_key:
            del table.records[old_key]
        table.records[table.key_of(values)] = updated
        return updated

    def delete(self, set_name: str, record: Record) -> None:
        table = self.tables[set_name]
        table.records.pop(table.key_of(record.values), None)

    def next_number(self, sequence: str) -> int:
        self.sequences[sequence] = self.sequences.get(sequence, 0) + 1
        return self.sequences[sequence]

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to undo a failed changeset."""
        return {
            "tables": {n: dict(t.records) for n, t in self.tables.items()},
            "sequences": dict(self.sequences),
            "next_rec_id": self.next_rec_id,
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, records in snapshot["tables"].items():
            self.tables[name].records = records
        self.sequences = dict(snapshot["sequences"])
        self.next_rec_id = snapshot["next_rec_id"]

    def copy(self) -> Store:
        return copy.deepcopy(self)
