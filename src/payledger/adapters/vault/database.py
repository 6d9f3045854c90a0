"""Secrets kept in the database, encrypted with Fernet under the master key."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import secrets
from payledger.adapters.vault.keys import MASTER_KEY_ENV, MasterKeyStore
from payledger.adapters.vault.provider import SecretInfo, SecretNotFound
from payledger.domain.clock import Clock
from payledger.domain.errors import ConfigError


class DatabaseSecretProvider:
    """The default vault: the ``secrets`` table, values encrypted with MultiFernet."""

    def __init__(self, database: Database, keys: MasterKeyStore, clock: Clock) -> None:
        self.database = database
        self.keys = keys
        self.clock = clock

    async def _fernet(self, conn: AsyncConnection, *, create: bool) -> MultiFernet:
        fernet = self.keys.fernet()
        if fernet is not None:
            return fernet
        stored = await conn.scalar(select(func.count()).select_from(secrets))
        if stored:
            raise ConfigError(
                f"{stored} secret(s) are stored but no master key was found: set "
                f"{MASTER_KEY_ENV} or restore the key file {self.keys.key_file}"
            )
        if not create:
            raise SecretNotFound("the vault is empty")
        return self.keys.create()

    async def get(self, name: str) -> SecretStr:
        async with self.database.transaction() as conn:
            ciphertext = await conn.scalar(
                select(secrets.c.ciphertext).where(secrets.c.name == name)
            )
            if ciphertext is None:
                raise SecretNotFound(
                    f"secret {name!r} is not in the vault (payledger secrets set {name})"
                )
            fernet = await self._fernet(conn, create=False)
        try:
            return SecretStr(fernet.decrypt(ciphertext).decode())
        except InvalidToken:
            raise ConfigError(
                f"secret {name!r} cannot be decrypted: wrong master key or corrupted value"
            ) from None

    async def set(self, name: str, value: str, *, actor: str) -> None:
        if not name or not value:
            raise ConfigError("a secret needs a name and a non-empty value")
        now = self.clock.now()
        async with self.database.transaction() as conn:
            ciphertext = (await self._fernet(conn, create=True)).encrypt(value.encode())
            inserted = await conn.execute(
                insert_ignoring_duplicates(secrets, self.database.dialect)
                .values(name=name, ciphertext=ciphertext, created_at=now)
                .returning(secrets.c.name)
            )
            if inserted.scalar_one_or_none() is None:
                await conn.execute(
                    update(secrets)
                    .where(secrets.c.name == name)
                    .values(ciphertext=ciphertext, rotated_at=now)
                )
            await record_audit(conn, at=now, actor=actor, action="secret.set", subject=name)

    async def delete(self, name: str, *, actor: str) -> bool:
        async with self.database.transaction() as conn:
            result = await conn.execute(delete(secrets).where(secrets.c.name == name))
            if result.rowcount:
                await record_audit(
                    conn, at=self.clock.now(), actor=actor, action="secret.delete", subject=name
                )
            return bool(result.rowcount)

    async def info(self, name: str) -> SecretInfo:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(secrets.c.name, secrets.c.created_at, secrets.c.rotated_at).where(
                        secrets.c.name == name
                    )
                )
            ).one_or_none()
        if row is None:
            raise SecretNotFound(f"secret {name!r} is not in the vault")
        return SecretInfo(row.name, row.created_at, row.rotated_at)

    async def list(self) -> list[SecretInfo]:
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(secrets.c.name, secrets.c.created_at, secrets.c.rotated_at).order_by(
                    secrets.c.name
                )
            )
            return [SecretInfo(row.name, row.created_at, row.rotated_at) for row in rows]

    async def rotate_master_key(self, *, actor: str) -> int:
        """Re-encrypt every secret under a new master key; returns how many were rotated.

        The new key is put first (old keys still decrypt), every row is re-encrypted and
        checked to decrypt under the new key alone, and only then are old keys dropped.
        """
        now = self.clock.now()
        async with self.database.transaction() as conn:
            if self.keys.fernet() is None:
                await self._fernet(conn, create=False)  # explains what is missing
            fernet = self.keys.start_rotation()
            rows = (await conn.execute(select(secrets.c.name, secrets.c.ciphertext))).all()
            for row in rows:
                try:
                    rotated = fernet.rotate(row.ciphertext)
                except InvalidToken:
                    raise ConfigError(
                        f"secret {row.name!r} cannot be decrypted; rotation stopped"
                    ) from None
                await conn.execute(
                    update(secrets).where(secrets.c.name == row.name).values(ciphertext=rotated)
                )
            newest = Fernet((self.keys.keys() or [])[0])
            for row in (await conn.execute(select(secrets.c.ciphertext))).all():
                newest.decrypt(row.ciphertext)
            await record_audit(
                conn,
                at=now,
                actor=actor,
                action="vault.rotate",
                subject="master key",
                detail={"secrets": len(rows)},
            )
        self.keys.finish_rotation()
        return len(rows)
