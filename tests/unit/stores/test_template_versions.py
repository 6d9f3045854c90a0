"""The template version store on SQLite and PostgreSQL: versions are saved on top of the one
their author started from (a save on a stale version is refused, naming who saved what when,
and nothing is lost), diffs read like a review, an invalid version is never activated, and
rollbacks walk back through what was in force. Every change is in the audit log."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import audit_log, template_versions
from payledger.config import Settings
from payledger.mapping import example_settings
from payledger.stores.template_versions import (
    InvalidTemplateVersion,
    SqlTemplateVersions,
    UnknownTemplateVersion,
    VersionConflict,
)
from payledger.templates import offline_catalog, seed_sources

NAME = "d365_payment_journal_line"
SEEDS = seed_sources(Settings())
SEED_BODY = SEEDS[NAME]
CATALOG = offline_catalog(Settings())
VALUES = example_settings()


def edited(old: str = "PayTrace {kind} {txn}", new: str = "Card {kind} {txn}") -> str:
    assert f'"{old}"' in SEED_BODY
    return SEED_BODY.replace(f'"{old}"', f'"{new}"')


BROKEN_SOURCE = SEED_BODY.replace(
    "PaymentId: {path: payment.gateway_txn_id}", "PaymentId: {path: payment.no_such_field}"
)


@pytest.fixture
def store(database, clock) -> SqlTemplateVersions:
    return SqlTemplateVersions(database, clock, lambda: SEEDS)


async def audited(database) -> list[tuple[str, str, str]]:
    async with database.transaction() as conn:
        rows = await conn.execute(select(audit_log).order_by(audit_log.c.id))
        return [(row.actor, row.action, row.subject) for row in rows]


async def test_saved_versions_are_numbered_listed_and_read_back(store, clock):
    first = await store.save(NAME, edited(), author="alice", based_on=0, comment="card wording")
    clock.advance(minutes=5)
    second = await store.save(NAME, edited(new="Pay {kind} {txn}"), author="bob", based_on=1)

    assert (first.version, first.based_on, first.label) == (1, 0, f"{NAME}@1")
    assert (second.version, second.based_on, second.author) == (2, 1, "bob")
    assert [v.version for v in await store.versions(NAME)] == [2, 1]
    assert await store.get(NAME, 1) == first
    assert (await store.get(NAME, 0)).body == SEED_BODY  # version 0 is the seed
    assert first.created_at == second.created_at - timedelta(minutes=5)
    assert first.checksum != second.checksum and len(first.checksum) == 64
    assert await store.active_version(NAME) == 0  # saving is not activating


async def test_a_diff_shows_the_changed_lines_under_both_labels(store):
    await store.save(NAME, edited(), author="alice", based_on=0)

    diff = await store.diff(NAME, 0, 1)

    assert diff.startswith(f"--- {NAME}@default\n+++ {NAME}@1\n")
    assert '-      format: "PayTrace {kind} {txn}"\n' in diff
    assert '+      format: "Card {kind} {txn}"\n' in diff
    assert await store.diff(NAME, 1, 1) == ""


async def test_a_save_on_a_stale_version_is_refused_naming_who_saved_what_when(store, clock):
    await store.save(NAME, edited(), author="alice", based_on=0, comment="card wording")
    mine = edited(new="Bob {kind} {txn}")

    with pytest.raises(VersionConflict) as refused:
        await store.save(NAME, mine, author="bob", based_on=0)

    error = refused.value
    assert error.code == "conflict"
    assert "alice saved version 1 at 2026-03-24T17:00:00+00:00 (card wording)" in str(error)
    assert "you started from version 0" in str(error)
    assert error.latest.version == 1 and error.body == mine  # nothing is lost
    assert [v.author for v in await store.versions(NAME)] == ["alice"]


async def test_of_two_saves_racing_on_one_version_exactly_one_is_stored(store):
    results = await asyncio.gather(
        store.save(NAME, edited(new="A {kind} {txn}"), author="alice", based_on=0),
        store.save(NAME, edited(new="B {kind} {txn}"), author="bob", based_on=0),
        return_exceptions=True,
    )

    saved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, VersionConflict)]
    assert len(saved) == 1 and len(refused) == 1
    assert refused[0].latest.author == saved[0].author
    assert [v.version for v in await store.versions(NAME)] == [1]


async def test_a_malformed_template_or_one_of_another_name_is_never_saved(store, database):
    unknown_transform = SEED_BODY.replace("transform: display_value", "transform: shout")
    renamed = SEED_BODY.replace(f"template: {NAME}", "template: something_else")

    with pytest.raises(InvalidTemplateVersion, match=r"AccountDisplayValue.*shout"):
        await store.save(NAME, unknown_transform, author="alice", based_on=0)
    with pytest.raises(InvalidTemplateVersion, match="names template 'something_else'"):
        await store.save(NAME, renamed, author="alice", based_on=0)
    with pytest.raises(UnknownTemplateVersion, match="has no version 4"):
        await store.save(NAME, edited(), author="alice", based_on=4)
    async with database.transaction() as conn:
        assert (await conn.execute(select(template_versions))).all() == []


async def test_an_invalid_version_is_never_activated_and_the_refusal_names_the_field(store):
    await store.save(NAME, BROKEN_SOURCE, author="alice", based_on=0)
    generation = await store.generation()

    with pytest.raises(InvalidTemplateVersion) as refused:
        await store.activate(NAME, 1, actor="alice", catalog=CATALOG, settings=VALUES)

    assert refused.value.code == "invalid_template"
    assert "field PaymentId: unknown source path payment.no_such_field" in str(refused.value)
    assert await store.active_version(NAME) == 0
    assert await store.generation() == generation
    assert await store.history(NAME) == []


async def test_activation_puts_one_version_in_force_and_moves_the_generation(store, clock):
    await store.save(NAME, edited(), author="alice", based_on=0)
    await store.save(NAME, edited(new="Pay {kind} {txn}"), author="alice", based_on=1)
    before = await store.generation()

    await store.activate(NAME, 1, actor="alice", catalog=CATALOG, settings=VALUES)
    await store.activate(NAME, 2, actor="carol", catalog=CATALOG, settings=VALUES, comment="go")

    assert await store.active_version(NAME) == 2
    assert {name: v.version for name, v in (await store.active()).items()} == {NAME: 2}
    assert await store.generation() > before
    history = await store.history(NAME)
    assert [(a.action, a.previous, a.version, a.actor) for a in history] == [
        ("activate", 0, 1, "alice"),
        ("activate", 1, 2, "carol"),
    ]
    assert history[1].comment == "go" and history[1].at == clock.now()


async def test_rollbacks_walk_back_through_what_was_in_force_down_to_the_seed(store):
    for text in ("A {kind} {txn}", "B {kind} {txn}"):
        latest = (await store.latest(NAME)).version
        await store.save(NAME, edited(new=text), author="alice", based_on=latest)
        await store.activate(NAME, latest + 1, actor="alice", catalog=CATALOG, settings=VALUES)

    first = await store.rollback(NAME, actor="bob", catalog=CATALOG, settings=VALUES)
    assert (first.action, first.previous, first.version) == ("rollback", 2, 1)
    assert await store.active_version(NAME) == 1
    second = await store.rollback(NAME, actor="bob", catalog=CATALOG, settings=VALUES)
    assert (second.previous, second.version) == (1, 0)
    assert await store.active() == {}  # the seed is in force again

    with pytest.raises(UnknownTemplateVersion, match="no activation left to roll back"):
        await store.rollback(NAME, actor="bob", catalog=CATALOG, settings=VALUES)


async def test_every_save_activation_and_rollback_is_audited(store, database):
    await store.save(NAME, edited(), author="alice", based_on=0)
    await store.activate(NAME, 1, actor="carol", catalog=CATALOG, settings=VALUES)
    await store.rollback(NAME, actor="dave", catalog=CATALOG, settings=VALUES)

    assert await audited(database) == [
        ("alice", "template.save", f"{NAME}@1"),
        ("carol", "template.activate", NAME),
        ("dave", "template.rollback", NAME),
    ]
