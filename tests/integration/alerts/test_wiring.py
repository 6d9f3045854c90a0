"""``[alerts]`` as an operator configures it: sinks built from the vault, scans on a schedule,
alerts delivered by ordinary workers, and no secret in the log."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import jobs
from payledger.alerts.scans import SCAN_ALERTS
from payledger.bootstrap import build
from payledger.config import (
    AlertSmtpSettings,
    AlertsSettings,
    DatabaseSettings,
    LoggingSettings,
    Settings,
    VaultSettings,
)
from payledger.domain.errors import AuthError, RejectedError
from payledger.engine.jobs import Job, NewJob
from tests.integration.alerts.conftest import SMTP_PASSWORD, WEBHOOK_TOKEN


@pytest.fixture
async def container(database_url, tmp_path, clock, mailbox, receiver, log_file):
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=log_file, level="DEBUG"),
        alerts=AlertsSettings(
            sinks=["webhook", "smtp"],
            gather_seconds=0,
            smtp=AlertSmtpSettings(
                host=mailbox.host,
                port=mailbox.port,
                username="alerts",
                sender="payledger@contoso.test",
                recipients=["finance-ops@contoso.test"],
                ca_file=mailbox.certificate,
            ),
        ),
    )
    built = build(settings, clock=clock)
    await migrate(built.database)
    await built.vault.set("alerts-webhook-url", receiver.url, actor="test")
    await built.vault.set("alerts-smtp-password", SMTP_PASSWORD, actor="test")
    yield built
    await built.aclose()


def failing(error: Exception):
    async def handler(_job: Job) -> None:
        raise error

    return handler


async def run_jobs(container, *jobs: NewJob) -> None:
    async with container.database.transaction() as conn:
        for job in jobs:
            await container.queue.enqueue(conn, job)
    await container.worker().run_until_idle()


async def fire_schedules(container) -> None:
    async with container.database.transaction() as conn:
        await container.scheduler().fire_due(conn)
    await container.worker().run_until_idle()


async def test_alerts_reach_the_webhook_and_the_mailbox_and_secrets_stay_out_of_the_log(
    container, clock, receiver, mailbox, log_file
):
    container.handlers["paytrace.poll"] = failing(
        AuthError("PayTrace refused token: invalid_grant", system="paytrace", operation="token")
    )
    await run_jobs(container, NewJob("paytrace.poll"))
    title = "[payledger] PayTrace refused payledger's credentials"
    assert [post["text"] for post in receiver.posts] == [title]
    assert [message["Subject"] for message in mailbox.messages] == [title]

    receiver.status = 500  # the chat service is down: the e-mail still goes out
    container.handlers["payment.process"] = failing(RejectedError("customer US-999 is missing"))
    await run_jobs(container, *(NewJob("payment.process", {"n": n}) for n in range(3)))
    clock.advance(minutes=1)
    await fire_schedules(container)
    dead_letters = "[payledger] New dead letters: work that needs a human (x3)"
    assert mailbox.messages[-1]["Subject"] == dead_letters
    assert "customer US-999 is missing" in mailbox.messages[-1].get_content()

    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    events = [json.loads(line) for line in text.splitlines()]
    assert {"auth:paytrace", "dead-letters"} <= {
        e.get("key") for e in events if e["event"] == "alert"
    }
    [undelivered] = [e for e in events if e["event"] == "alert.undelivered"]
    assert undelivered["error"] == "webhook (slack): answered HTTP 500"
    assert WEBHOOK_TOKEN not in text and "/services/" not in text
    assert SMTP_PASSWORD not in text


async def test_the_scans_run_once_a_minute_on_their_schedule(container, clock):
    await fire_schedules(container)
    clock.advance(seconds=20)
    await fire_schedules(container)  # same minute: the tick already fired
    clock.advance(minutes=1)
    await fire_schedules(container)
    async with container.database.transaction() as conn:
        runs = (
            await conn.execute(
                select(jobs.c.status).where(jobs.c.kind == SCAN_ALERTS).order_by(jobs.c.id)
            )
        ).all()
    assert [row.status for row in runs] == ["done", "done"]
