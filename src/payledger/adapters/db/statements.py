"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Column, Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement


def insert_ignoring_duplicates(table: Table, dialect: str) -> PgInsert | SqliteInsert:
    """``INSERT ... ON CONFLICT DO NOTHING``: a row that breaks a unique key is skipped."""
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return insert.on_conflict_do_nothing()


def insert_rows_ignoring_duplicates(
    table: Table,
    dialect: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    shared: Mapping[str, Any] | None = None,
    returning: Sequence[Column[Any]] = (),
) -> tuple[Executable, Any]:
    """:func:`insert_ignoring_duplicates` of many rows (all with the same keys, plus the
    ``shared`` values every row has), as the statement and the parameters to execute it with.

    A shared value is sent and converted once, not once per row. On PostgreSQL the rows
    travel as one array per column through ``unnest()``: one short statement whatever the
    number of rows, which psycopg parses once and then prepares. A multi-row ``VALUES`` list
    has a placeholder per value, and psycopg caches no query with more than 50 of them: it
    would parse every such statement again, at a cost that grows with the rows. On SQLite the
    rows are a plain ``executemany``. Either way the statement is built once per table and
    columns, not per call.
    """
    shared = shared or {}
    names = tuple(rows[0])
    if dialect != "postgresql":
        common = {f"shared_{name}": value for name, value in shared.items()}
        statement = _sqlite_insert(table, tuple(shared), tuple(returning))
        return statement, [{**row, **common} for row in rows] if common else list(rows)
    json_columns = _json_columns(table)
    parameters: dict[str, Any] = {
        name: [json.dumps(row[name]) for row in rows]
        if name in json_columns
        else [row[name] for row in rows]
        for name in names
    }
    parameters.update(
        (f"shared_{name}", json.dumps(value) if name in json_columns else value)
        for name, value in shared.items()
    )
    return _unnest_insert(table, names, tuple(shared), tuple(returning)), parameters


@functools.cache
def _sqlite_insert(table: Table, shared: tuple[str, ...], returning: tuple[Any, ...]) -> Executable:
    statement = sqlite_insert(table).on_conflict_do_nothing()
    if shared:
        statement = statement.values(
            {name: bindparam(f"shared_{name}", type_=table.c[name].type) for name in shared}
        )
    return statement.returning(*returning) if returning else statement


def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(column.name for column in table.columns if isinstance(column.type, JSON))


@functools.cache
def _unnest_insert(
    table: Table, names: tuple[str, ...], shared: tuple[str, ...], returning: tuple[Any, ...]
) -> Executable:
    # JSON documents go as text and are cast back, since an array of JSON lists would be read
    # as a multi-dimensional array.
    json_columns = _json_columns(table)
    arrays = [
        bindparam(name, type_=ARRAY(Text if name in json_columns else table.c[name].type))
        for name in names
    ]
    given = func.unnest(*arrays).table_valued(*names).render_derived(name="given")
    values: list[ColumnElement[Any]] = [
        cast(given.c[name], JSONB) if name in json_columns else given.c[name] for name in names
    ]
    values += [
        cast(bindparam(f"shared_{name}", type_=Text), JSONB)
        if name in json_columns
        else bindparam(f"shared_{name}", type_=table.c[name].type)
        for name in shared
    ]
    statement = pg_insert(table).from_select([*names, *shared], select(*values))
    statement = statement.on_conflict_do_nothing()
    return statement.returning(*returning) if returning else statement
