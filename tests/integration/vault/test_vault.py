"""The vault keeps secrets encrypted, refuses to guess, and rotates its key."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import select, update

from payledger.adapters.db.tables import audit_log, secrets
from payledger.adapters.vault import DatabaseSecretProvider, MasterKeyStore, SecretNotFound
from payledger.domain.errors import ConfigError


@pytest.fixture
def key_file(tmp_path):
    return tmp_path / "keys" / "master.key"


@pytest.fixture
def vault(database, clock, key_file) -> DatabaseSecretProvider:
    return DatabaseSecretProvider(database, MasterKeyStore(key_file, environ={}), clock)


async def test_a_secret_round_trips_and_is_stored_encrypted(vault, database, key_file):
    await vault.set("paytrace-password", "s3cret-Value", actor="ops")
    value = await vault.get("paytrace-password")
    assert value.get_secret_value() == "s3cret-Value"
    assert "s3cret" not in repr(value)
    async with database.transaction() as conn:
        stored = await conn.scalar(select(secrets.c.ciphertext))
    assert b"s3cret" not in stored
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_changes_are_audited_without_values(vault, database):
    await vault.set("d365-client-secret", "abc123", actor="ops")
    await vault.set("d365-client-secret", "def456", actor="ops")
    assert await vault.delete("d365-client-secret", actor="ops")
    async with database.transaction() as conn:
        entries = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    assert [e.action for e in entries] == ["secret.set", "secret.set", "secret.delete"]
    assert all("abc123" not in str(e.detail) and "def456" not in str(e.detail) for e in entries)


async def test_listing_shows_names_and_dates_only(vault, clock):
    await vault.set("b-secret", "1", actor="ops")
    await vault.set("a-secret", "2", actor="ops")
    clock.advance(hours=1)
    await vault.set("a-secret", "3", actor="ops")
    listed = await vault.list()
    assert [info.name for info in listed] == ["a-secret", "b-secret"]
    assert listed[0].rotated_at == clock.now()
    assert listed[1].rotated_at is None


async def test_an_unknown_secret_is_named_in_the_error(vault):
    await vault.set("present", "x", actor="ops")
    with pytest.raises(SecretNotFound, match="'absent'"):
        await vault.get("absent")


async def test_a_missing_master_key_for_existing_secrets_is_a_clear_error(vault, key_file):
    await vault.set("paytrace-password", "x", actor="ops")
    key_file.unlink()
    with pytest.raises(ConfigError, match="no master key"):
        await vault.get("paytrace-password")
    with pytest.raises(ConfigError, match="no master key"):
        await vault.set("other", "y", actor="ops")
    assert not key_file.exists()  # a new key is never silently made over existing secrets


async def test_a_corrupt_secret_is_named_and_not_guessed(vault, database):
    await vault.set("paytrace-password", "x", actor="ops")
    async with database.transaction() as conn:
        await conn.execute(update(secrets).values(ciphertext=b"gAAAAAgarbage"))
    with pytest.raises(ConfigError, match="'paytrace-password' cannot be decrypted"):
        await vault.get("paytrace-password")


async def test_rotation_reencrypts_under_a_new_key_and_drops_the_old(
    vault, key_file, database, clock
):
    await vault.set("one", "1", actor="ops")
    await vault.set("two", "2", actor="ops")
    old_key = key_file.read_text().strip()
    assert await vault.rotate_master_key(actor="ops") == 2
    new_keys = key_file.read_text().split()
    assert new_keys != [old_key]
    assert len(new_keys) == 1
    assert (await vault.get("one")).get_secret_value() == "1"
    assert (await vault.get("two")).get_secret_value() == "2"


async def test_the_master_key_can_come_from_the_environment(database, clock, tmp_path):
    from cryptography.fernet import Fernet

    env = {"PAYLEDGER_MASTER_KEY": Fernet.generate_key().decode()}
    vault = DatabaseSecretProvider(
        database, MasterKeyStore(tmp_path / "unused.key", environ=env), clock
    )
    await vault.set("s", "v", actor="ops")
    assert (await vault.get("s")).get_secret_value() == "v"
    assert not (tmp_path / "unused.key").exists()
    other = DatabaseSecretProvider(
        database,
        MasterKeyStore(
            tmp_path / "unused.key",
            environ={"PAYLEDGER_MASTER_KEY": Fernet.generate_key().decode()},
        ),
        clock,
    )
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        await other.get("s")


def test_a_malformed_master_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="malformed"):
        MasterKeyStore(tmp_path / "k", environ={"PAYLEDGER_MASTER_KEY": "not-a-key"}).keys()
