"""``payledger risk``: the review queue listed, approved once (its event released) and
rejected, audited as the CLI user; training on the stored events; the screen's status."""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import audit_log, jobs
from payledger.cli.common import load
from payledger.cli.risk import app as risk_app
from payledger.domain.clock import ManualClock
from payledger.domain.money import Money
from payledger.domain.risk import Action, Assessment, Reason, RiskSubject, SubjectKind
from payledger.engine.queue import Queue
from payledger.stores.risk import SqlRiskStore
from payledger.stores.risk_reviews import SqlReviewQueue
from tests.fakes_risk import FakeRiskScorer, FakeRiskTrainer

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
ME = f"cli:{getpass.getuser()}"
HOLD = Assessment(0.91, Action.REVIEW, (Reason("amount_outlier", "10x the usual", 0.7),))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'payledger.db'}"


def seeded(url: str, holds: int = 1) -> None:
    async def go() -> None:
        database = Database(url)
        await migrate(database)
        store = SqlRiskStore(database, SqlReviewQueue(Queue(database, clock=ManualClock(WHEN))))
        for n in range(holds):
            sale = RiskSubject(f"T{n}", SubjectKind.SALE, Money.of("900.00"), WHEN, "C-1")
            await store.record(sale, HOLD, WHEN)
            await store.hold_posting(sale, 100 + n, HOLD, open_review=True)
        allowed = RiskSubject("T9", SubjectKind.SALE, Money.of("9.00"), WHEN, "C-1")
        await store.record(allowed, Assessment(0.1, Action.ALLOW), WHEN)
        await database.dispose()

    asyncio.run(go())


def rows(url: str, table: Any) -> list[Any]:
    async def go() -> list[Any]:
        database = Database(url)
        async with database.transaction() as conn:
            found = list(await conn.execute(select(table)))
        await database.dispose()
        return found

    return asyncio.run(go())


def invoke(tmp_path: Path, url: str, *args: str, **obj: Any) -> Any:
    config = tmp_path / "payledger.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[vault]\nkey_file = "{tmp_path}/master.key"\n'
        '[logging]\nfile = ""\n[risk]\nmode = "enforce"\n'
    )
    root = typer.Typer()

    @root.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = {"settings": load(str(config)), **obj}

    root.add_typer(risk_app, name="risk")
    return CliRunner().invoke(root, ["risk", *args], env={"COLUMNS": "200"})


def test_review_list_shows_what_is_held_with_score_and_reasons(tmp_path, url):
    seeded(url)
    result = invoke(tmp_path, url, "review", "list")
    assert result.exit_code == 0, result.output
    assert "posting T0" in result.output
    assert "900.00 USD" in result.output
    assert "0.91" in result.output and "amount_outlier" in result.output


def test_approve_releases_once_and_is_audited_as_the_cli_user(tmp_path, url):
    seeded(url)
    first = invoke(tmp_path, url, "review", "approve", "1", "--comment", "known buyer")
    assert first.exit_code == 0, first.output
    assert "approved, 1 released" in first.output
    again = invoke(tmp_path, url, "review", "reject", "1")
    assert again.exit_code == 1
    assert f"already approved by {ME}" in again.output
    released = [job for job in rows(url, jobs) if job.dedupe_key.startswith("risk-release:")]
    assert [job.payload for job in released] == [{"inbox_id": 100}]
    (audit,) = rows(url, audit_log)
    assert (audit.actor, audit.action, audit.detail["comment"]) == (
        ME,
        "risk.approve",
        "known buyer",
    )
    assert "nothing waits for review" in invoke(tmp_path, url, "review", "list").output


def test_reject_keeps_the_item_back_and_an_unknown_id_exits_2(tmp_path, url):
    seeded(url)
    result = invoke(tmp_path, url, "review", "reject", "1", "--comment", "stolen card")
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output
    assert not [job for job in rows(url, jobs) if job.dedupe_key.startswith("risk-release:")]
    unknown = invoke(tmp_path, url, "review", "approve", "77")
    assert unknown.exit_code == 2
    assert "review item 77 does not exist" in unknown.output


def test_train_uses_the_stored_events(tmp_path, url):
    seeded(url, holds=2)
    trainer = FakeRiskTrainer()
    result = invoke(tmp_path, url, "train", risk_trainer=lambda: trainer)
    assert result.exit_code == 0, result.output
    assert "model v1 trained on 3 events" in result.output
    assert {s.transaction_id for s in trainer.trained[0]} == {"T0", "T1", "T9"}
    too_few = invoke(tmp_path, url, "train", risk_trainer=lambda: FakeRiskTrainer(least=10))
    assert too_few.exit_code == 2
    assert "need 10 events" in too_few.output


def test_status_shows_the_model_its_problem_and_the_counts(tmp_path, url):
    seeded(url)
    broken = FakeRiskScorer(problem="model file is corrupt")
    result = invoke(tmp_path, url, "status", risk_scorer=lambda _container: broken)
    assert result.exit_code == 0, result.output
    assert "mode: enforce" in result.output
    assert "none (rules only)" in result.output
    assert "model problem: model file is corrupt" in result.output
    assert "review │ 1" in result.output and "allow  │ 1" in result.output
    assert "waiting for review: 1" in result.output
