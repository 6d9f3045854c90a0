"""Migrations create exactly the schema the code declares, and can run again safely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from payledger.adapters.db.migrate import current_revision, head_revision, migrate
from payledger.adapters.db.tables import metadata


async def test_migrations_match_the_declared_schema(database):
    def differences(sync_conn):
        return compare_metadata(MigrationContext.configure(sync_conn), metadata)

    async with database.transaction() as conn:
        assert await conn.run_sync(differences) == []


async def test_migrating_twice_is_harmless_and_lands_on_head(database):
    await migrate(database)
    assert await current_revision(database) == head_revision()
