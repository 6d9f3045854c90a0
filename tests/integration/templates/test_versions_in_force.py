"""Template versions at work, on SQLite and PostgreSQL: an activation made by one process
reaches the next job of another without a restart; a posting records the template version
that mapped it; a replay maps again with the current version or the original one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from payledger.adapters.db.tables import postings
from payledger.bootstrap import Container, build
from payledger.bootstrap.flow_map import active_template_versions
from payledger.bootstrap.templates_in_force import TemplatesInForce
from payledger.config import (
    D365Settings,
    DatabaseSettings,
    LoggingSettings,
    MappingSettings,
    Settings,
    VaultSettings,
)
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.events import PaymentObserved
from payledger.domain.posting import Posting, PostingState
from payledger.stores.payment_events import PROCESS_PAYMENT, SqlPaymentEventStore
from payledger.stores.postings import SqlPostingStore, replay_dead_postings
from payledger.templates import load_templates, offline_catalog, seed_sources
from tests.fakes import FakeLedger

NAME = "d365_payment_journal_line"
WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        d365=D365Settings(enabled=True, fallback_customer_account="US-001"),
        mapping=MappingSettings(versions_check_seconds=0),
    )


async def a_process(settings: Settings) -> Container:
    """A payledger process's container, its D365 ledger an in-memory fake."""
    container = build(settings)
    await container.prepare()
    container._posting_ledger = FakeLedger()  # type: ignore[assignment]
    return container


@pytest.fixture
async def two_processes(settings) -> AsyncIterator[tuple[Container, Container]]:
    first, second = await a_process(settings), await a_process(settings)
    yield first, second
    await first.aclose()
    await second.aclose()


def worded(word: str) -> str:
    """The journal line template with its transaction text starting with ``word``."""
    return seed_sources(Settings())[NAME].replace(
        '"PayTrace {kind} {txn}"', f'"{word} {{kind}} {{txn}}"'
    )


async def save_and_activate(container: Container, body: str, actor: str = "alice") -> int:
    store = container.template_versions()
    latest = (await store.latest(NAME)).version
    saved = await store.save(NAME, body, author=actor, based_on=latest)
    await store.activate(
        NAME,
        saved.version,
        actor=actor,
        catalog=offline_catalog(container.settings),
        settings=container.template_settings(),
    )
    return saved.version


async def processed(container: Container, txn: str) -> Posting:
    """``txn`` sold, seen by this process's poller and posted by its worker."""
    sale = Payment(txn, PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("25.00"), WHEN)
    events = SqlPaymentEventStore(container.inbox)
    await events.record("paytrace", [PaymentObserved(f"{txn}:sale", sale)], watermark=("w", WHEN))
    return await worked(container, txn)


async def worked(container: Container, txn: str) -> Posting:
    await container.worker(kinds=[PROCESS_PAYMENT]).run_until_idle()
    posting = await SqlPostingStore(container.queue).find(txn, "payment")
    assert posting is not None
    return posting


async def dead(container: Container, txn: str) -> None:
    """D365 refused the line of ``txn`` for good."""
    async with container.database.transaction() as conn:
        await conn.execute(
            update(postings)
            .where(postings.c.gateway_txn_id == txn)
            .values(state=PostingState.DEAD.value, last_error="refused")
        )


async def test_an_activation_reaches_the_next_job_of_another_process_without_a_restart(
    two_processes,
):
    editor, worker = two_processes
    before = await processed(worker, "T-1")

    version = await save_and_activate(editor, worded("Card"))
    after = await processed(worker, "T-2")

    assert before.template_version == f"{NAME}@default"
    assert before.payload["TransactionText"].startswith("PayTrace ")
    assert after.template_version == f"{NAME}@{version}"
    assert after.payload["TransactionText"].startswith("Card ")
    assert worker.templates()[NAME] != load_templates(Settings())[NAME]


async def test_a_rollback_reaches_other_processes_the_same_way(two_processes):
    editor, worker = two_processes
    await save_and_activate(editor, worded("Card"))
    assert (await processed(worker, "T-1")).payload["TransactionText"].startswith("Card ")

    await editor.template_versions().rollback(
        NAME,
        actor="bob",
        catalog=offline_catalog(editor.settings),
        settings=editor.template_settings(),
    )

    back = await processed(worker, "T-2")
    assert back.template_version == f"{NAME}@default"
    assert back.payload["TransactionText"].startswith("PayTrace ")


async def test_a_process_checks_for_activations_at_most_once_per_check_interval(
    two_processes,
):
    editor, worker = two_processes
    now = [100.0]
    live = TemplatesInForce(
        lambda: load_templates(worker.settings),
        worker.template_versions(),
        worker.template_settings(),
        check_seconds=5,
        monotonic=lambda: now[0],
    )
    await live.refresh()
    version = await save_and_activate(editor, worded("Card"))

    now[0] += 4.9
    assert await live.refresh() is False  # the last check still holds: no query
    assert live.version(NAME) == 0
    now[0] += 0.2
    assert await live.refresh() is True
    assert live.version(NAME) == version
    assert live.compiled(NAME) is live.compiled(NAME)  # compiled once per version


async def test_a_replay_maps_with_the_current_version_or_the_original_one(two_processes):
    editor, worker = two_processes
    first = await save_and_activate(editor, worded("Card"))
    original = await processed(worker, "T-1")
    second = await save_and_activate(editor, worded("Pay"))
    assert original.template_version == f"{NAME}@{first}"

    await dead(worker, "T-1")
    await replay_dead_postings(worker.queue, actor="ops", original_templates=True)
    again = await worked(worker, "T-1")
    assert again.template_version == f"{NAME}@{first}"
    assert again.payload["TransactionText"] == original.payload["TransactionText"]

    await dead(worker, "T-1")
    await replay_dead_postings(worker.queue, actor="ops")
    current = await worked(worker, "T-1")
    assert current.template_version == f"{NAME}@{second}"
    assert current.payload["TransactionText"].startswith("Pay ")


async def test_the_flow_view_shows_the_version_in_force(two_processes):
    first, second = two_processes
    assert (await active_template_versions(second))[NAME] == "default"
    version = await save_and_activate(first, worded("Card"))
    versions = await active_template_versions(second)
    assert versions[NAME] == str(version)
    assert versions["d365_customer"] == "default"
