"""Mapping templates as versioned data: save, list, diff, activate, roll back.

Typical use (the console studio, ``payledger mapping``)::

    versions = container.template_versions()
    v = await versions.save(name, yaml_text, author="alice", based_on=2, comment="fee split")
    print(await versions.diff(name, 2, v.version))
    await versions.activate(name, v.version, actor="alice",
                            catalog=await container.template_catalog(),
                            settings=container.template_settings())
    await versions.rollback(name, actor="bob", catalog=..., settings=...)

A saved version never changes. Version 0 is the seed (the default template, or the
``mapping.templates_dir`` file); it is not stored, and is in force until a saved version is
activated. One version per template is active; every activation and rollback is kept in
``template_activations`` (whose highest id is the generation processes compare, see
:meth:`SqlTemplateVersions.generation`). Every save, activation and rollback is audited.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import template_activations, template_active, template_versions
from payledger.domain.clock import Clock
from payledger.mapping import SchemaCatalog, Template, validate_template
from payledger.stores.template_versions_model import (
    SEED,
    Activation,
    InvalidTemplateVersion,
    TemplateVersion,
    UnknownTemplateVersion,
    VersionConflict,
    parse_version,
    undo_target,
)

__all__ = [
    "SEED",
    "Activation",
    "InvalidTemplateVersion",
    "SqlTemplateVersions",
    "TemplateVersion",
    "UnknownTemplateVersion",
    "VersionConflict",
]


def checksum(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _version(row: Any) -> TemplateVersion:
    return TemplateVersion(
        template=row.template,
        version=row.version,
        body=row.body,
        author=row.author,
        created_at=row.created_at,
        comment=row.comment,
        based_on=row.based_on,
        checksum=row.checksum,
    )


def _activation(row: Any) -> Activation:
    return Activation(
        template=row.template,
        version=row.version,
        previous=row.previous,
        action=row.action,
        actor=row.actor,
        at=row.at,
        comment=row.comment,
    )


class SqlTemplateVersions:
    """The versions of every template, and which one is active, on SQLite or PostgreSQL.

    Args:
        database: where versions are kept.
        clock: the time saves and activations are stamped with.
        seeds: the YAML of every seed template (version 0) by name; called when one is read.
    """

    def __init__(
        self, database: Database, clock: Clock, seeds: Callable[[], Mapping[str, str]]
    ) -> None:
        self.database, self.clock, self._seeds = database, clock, seeds

    def seed(self, name: str) -> TemplateVersion:
        """Version 0 of ``name``: its default or ``templates_dir`` YAML."""
        body = self._seeds().get(name)
        if body is None:
            raise UnknownTemplateVersion(name, SEED)
        return TemplateVersion(
            name, SEED, body, "payledger", None, "the seed", SEED, checksum(body)
        )

    async def save(
        self, name: str, body: str, *, author: str, based_on: int, comment: str = ""
    ) -> TemplateVersion:
        """Store ``body`` as the next version of ``name`` (not active until activated).

        Args:
            based_on: the version the author started from (0: the seed). It must be the latest
                saved version: otherwise someone saved meanwhile, and nothing is stored.

        Raises:
            InvalidTemplateVersion: ``body`` is not a well-formed template named ``name``.
            VersionConflict: a version was saved after ``based_on`` (it names who and when).
            UnknownTemplateVersion: ``based_on`` does not exist.
        """
        parse_version(name, body, f"{name} (new version)")
        async with self.database.transaction() as conn:
            latest = await self._latest(conn, name)
            number = latest.version if latest else SEED
            if based_on > number or based_on < SEED:
                raise UnknownTemplateVersion(name, based_on)
            if based_on != number:
                assert latest is not None
                raise VersionConflict(name, based_on, latest, body)
            saved = TemplateVersion(
                name, number + 1, body, author, self.clock.now(), comment, based_on, checksum(body)
            )
            inserted = await conn.execute(
                insert_ignoring_duplicates(template_versions, self.database.dialect)
                .values(saved.row())
                .returning(template_versions.c.id)
            )
            if inserted.scalar_one_or_none() is not None:
                await self._audit(conn, author, "template.save", saved.label, saved.summary())
                return saved
        raise VersionConflict(name, based_on, await self.latest(name), body)  # raced, lost

    async def latest(self, name: str) -> TemplateVersion:
        """The newest saved version of ``name`` (the seed if none was saved)."""
        async with self.database.transaction() as conn:
            latest = await self._latest(conn, name)
        return latest or self.seed(name)

    async def _latest(self, conn: AsyncConnection, name: str) -> TemplateVersion | None:
        row = (
            await conn.execute(
                select(template_versions)
                .where(template_versions.c.template == name)
                .order_by(template_versions.c.version.desc())
                .limit(1)
            )
        ).one_or_none()
        return _version(row) if row else None

    async def versions(self, name: str) -> list[TemplateVersion]:
        """Every saved version of ``name``, newest first (the seed is not listed)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(template_versions)
                .where(template_versions.c.template == name)
                .order_by(template_versions.c.version.desc())
            )
            return [_version(row) for row in rows]

    async def get(self, name: str, version: int) -> TemplateVersion:
        """One version of ``name`` (0: the seed).

        Raises:
            UnknownTemplateVersion: there is no such version.
        """
        if version == SEED:
            return self.seed(name)
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(template_versions).where(
                        template_versions.c.template == name,
                        template_versions.c.version == version,
                    )
                )
            ).one_or_none()
        if row is None:
            raise UnknownTemplateVersion(name, version)
        return _version(row)

    async def diff(self, name: str, old: int, new: int) -> str:
        """A unified diff of the YAML of two versions of ``name`` (empty if they are equal)."""
        a, b = await self.get(name, old), await self.get(name, new)
        lines = difflib.unified_diff(
            a.body.splitlines(keepends=True),
            b.body.splitlines(keepends=True),
            fromfile=a.label,
            tofile=b.label,
        )
        return "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)

    async def active(self) -> dict[str, TemplateVersion]:
        """The active saved version of every template that has one (seeds are not listed)."""
        query = select(template_versions).join(
            template_active,
            (template_active.c.template == template_versions.c.template)
            & (template_active.c.version == template_versions.c.version),
        )
        async with self.database.transaction() as conn:
            return {row.template: _version(row) for row in await conn.execute(query)}

    async def active_version(self, name: str) -> int:
        """The version of ``name`` in force (0: the seed)."""
        async with self.database.transaction() as conn:
            return await self._active_version(conn, name)

    async def _active_version(self, conn: AsyncConnection, name: str) -> int:
        found = await conn.scalar(
            select(template_active.c.version).where(template_active.c.template == name)
        )
        return int(found or SEED)

    async def generation(self) -> int:
        """A number that grows with every activation or rollback (one primary-key read)."""
        async with self.database.transaction() as conn:
            return int(await conn.scalar(select(func.max(template_activations.c.id))) or 0)

    async def history(self, name: str) -> list[Activation]:
        """Every activation and rollback of ``name``, oldest first."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(template_activations)
                .where(template_activations.c.template == name)
                .order_by(template_activations.c.id)
            )
            return [_activation(row) for row in rows]

    async def check(
        self, name: str, version: int, catalog: SchemaCatalog, settings: Mapping[str, Any]
    ) -> Template:
        """The parsed version, if it may run against ``catalog`` and ``settings``.

        Raises:
            InvalidTemplateVersion: naming every field and reason found.
        """
        chosen = await self.get(name, version)
        template = parse_version(name, chosen.body, chosen.label)
        issues = validate_template(template, catalog, settings)
        if issues:
            raise InvalidTemplateVersion(chosen.label, issues, "cannot be activated")
        return template

    async def activate(
        self,
        name: str,
        version: int,
        *,
        actor: str,
        catalog: SchemaCatalog,
        settings: Mapping[str, Any],
        comment: str = "",
    ) -> Activation:
        """Put ``version`` of ``name`` in force for new work, after validating it.

        Args:
            catalog: the target schema (``container.template_catalog()``).
            settings: what templates read as ``settings.*`` (``container.template_settings()``).

        Raises:
            InvalidTemplateVersion: the version does not validate; nothing changes.
            UnknownTemplateVersion: there is no such version.
        """
        await self.check(name, version, catalog, settings)
        return await self._record(name, version, actor, "activate", comment)

    async def rollback(
        self,
        name: str,
        *,
        actor: str,
        catalog: SchemaCatalog,
        settings: Mapping[str, Any],
        comment: str = "",
    ) -> Activation:
        """Undo the last activation of ``name`` not undone yet: the version in force before
        it is activated again (validated first), and recorded as a rollback.

        Raises:
            UnknownTemplateVersion: nothing of ``name`` was activated that could be undone.
            InvalidTemplateVersion: the earlier version no longer validates.
        """
        target = undo_target(await self.history(name))
        if target is None:
            raise UnknownTemplateVersion(name, None)
        await self.check(name, target, catalog, settings)
        return await self._record(name, target, actor, "rollback", comment)

    async def _record(
        self, name: str, version: int, actor: str, action: str, comment: str
    ) -> Activation:
        now = self.clock.now()
        async with self.database.transaction() as conn:
            previous = await self._active_version(conn, name)
            activation = Activation(name, version, previous, action, actor, now, comment)
            activation_id = await conn.scalar(
                template_activations.insert()
                .values(activation.row())
                .returning(template_activations.c.id)
            )
            active = {"version": version, "activation_id": activation_id}
            active |= {"activated_by": actor, "activated_at": now}
            await conn.execute(
                insert_ignoring_duplicates(template_active, self.database.dialect).values(
                    template=name, **active
                )
            )
            await conn.execute(
                update(template_active).where(template_active.c.template == name).values(active)
            )
            detail = {"from": previous, "to": version, "comment": comment}
            await self._audit(conn, actor, f"template.{action}", name, detail)
        return activation

    async def _audit(
        self, conn: AsyncConnection, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        now = self.clock.now()
        await record_audit(conn, at=now, actor=actor, action=action, subject=subject, detail=detail)
