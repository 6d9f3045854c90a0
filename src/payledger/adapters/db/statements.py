"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_ignoring_duplicates(table: Table, dialect: str) -> PgInsert | SqliteInsert:
    """``INSERT ... ON CONFLICT DO NOTHING``: a row that breaks a unique key is skipped."""
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return insert.on_conflict_do_nothing()
