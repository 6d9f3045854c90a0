"""Schema migrations with Alembic, run programmatically (``payledger migrate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from payledger.adapters.db.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (latest by default); safe to run repeatedly."""

    def upgrade(sync_conn: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with database.transaction() as conn:
        await conn.run_sync(upgrade)


async def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with database.transaction() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
