"""POST /webhooks/paytrace: a signed hint is answered once it is committed; a job then fetches
the transaction from PayTrace, and only what PayTrace answers goes into the inbox."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from payledger.adapters.db.tables import inbox, jobs
from payledger.adapters.paytrace.schemas import PayTraceSaleDetails
from payledger.alerts.scans import dead_letters
from payledger.bootstrap import Container
from payledger.bootstrap.webhooks import FETCH_HINTED
from payledger.config import WorkerSettings
from payledger.domain import PaymentStatus
from payledger.domain.codec import payment_from_dict
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.stores.payment_events import PROCESS_PAYMENT, SqlPaymentEventStore
from payledger.views.overview import overview
from payledger.web.app import create_app
from tests.integration.web.webhooks.stage import (
    SECRET,
    Sender,
    fetch_jobs,
    hints,
    open_container,
    run_fetch_jobs,
    stored_counts,
    webhook_settings,
)

ROTATED_SECRET = "whsec_" + base64.b64encode(b"new-secret-after-rotation-0001").decode()


async def inbox_payments(container: Container) -> dict[str, Any]:
    """The payments in the inbox (PayTrace's, as the poller stores them), by event id."""
    async with container.database.transaction() as conn:
        rows = (
            await conn.execute(
                select(inbox).where(inbox.c.source == "paytrace").order_by(inbox.c.id)
            )
        ).all()
    return {row.external_id: payment_from_dict(row.payload) for row in rows}


async def jobs_of(container: Container, kind: str) -> list[Any]:
    async with container.database.transaction() as conn:
        return list(await conn.execute(select(jobs).where(jobs.c.kind == kind)))


async def test_a_hint_is_answered_200_once_stored_and_its_payment_reaches_the_inbox_after_the_fetch_job(  # noqa: E501
    container, sender, stage
):
    txn = await stage.sale("42.17")

    response = await sender.hint(txn, message_id="msg_first")

    assert response.status_code == 200, response.text
    stored_at = response.json()["event_id"]
    assert response.json()["status"] == "accepted"
    assert stored_at.startswith("msg_first@")
    (hint,) = await hints(container)
    assert (hint.external_id, hint.status) == (stored_at, "received")
    assert hint.payload == {"transaction_id": str(txn), "type": "transaction.created"}
    (fetch,) = await fetch_jobs(container)
    assert (fetch.payload, fetch.status) == ({"inbox_id": hint.id}, "pending")
    assert await inbox_payments(container) == {}  # PayTrace was not asked yet

    await run_fetch_jobs(container)

    payments = await inbox_payments(container)
    assert list(payments) == [f"paytrace:{txn}:sale:approved"]
    assert payments[f"paytrace:{txn}:sale:approved"].amount.amount == Decimal("42.17")
    (processing,) = await jobs_of(container, PROCESS_PAYMENT)
    assert processing.ordering_key == f"paytrace:{txn}"
    assert [h.status for h in await hints(container)] == ["processed"]
    assert [j.status for j in await fetch_jobs(container)] == ["done"]


async def test_what_is_stored_is_paytraces_current_state_not_what_the_hint_says(
    container, sender, stage
):
    txn = await stage.sale("10.00")
    await stage.void(txn)

    response = await sender.hint(txn, "created")  # a late, out-of-order notification
    await run_fetch_jobs(container)

    assert response.json()["status"] == "accepted"
    payments = await inbox_payments(container)
    assert list(payments) == [f"paytrace:{txn}:sale:voided"]
    assert payments[f"paytrace:{txn}:sale:voided"].status is PaymentStatus.VOIDED


async def test_a_payment_seen_by_the_poller_and_a_webhook_is_one_inbox_event(
    container, sender, stage
):
    txn = await stage.sale("18.00")
    store = SqlPaymentEventStore(container.inbox)
    polled = await poll_payments(
        PollPayments(),
        source=await container.payment_lookup(),
        store=store,
        clock=container.clock,
    )
    assert polled.new == 1

    response = await sender.hint(txn)
    await run_fetch_jobs(container)

    assert response.json()["status"] == "accepted"
    assert list(await inbox_payments(container)) == [f"paytrace:{txn}:sale:approved"]
    assert len(await jobs_of(container, PROCESS_PAYMENT)) == 1
    assert [h.status for h in await hints(container)] == ["processed"]


async def test_two_deliveries_about_one_payment_state_store_it_once(container, sender, stage):
    txn = await stage.sale("7.00")

    first = await sender.hint(txn, "created")
    second = await sender.hint(txn, "created")  # another delivery (new webhook-id)
    await run_fetch_jobs(container)

    assert [first.json()["status"], second.json()["status"]] == ["accepted", "accepted"]
    assert len(await hints(container)) == 2
    assert list(await inbox_payments(container)) == [f"paytrace:{txn}:sale:approved"]
    assert len(await jobs_of(container, PROCESS_PAYMENT)) == 1


async def test_a_replayed_delivery_is_acknowledged_without_being_stored_again(
    container, sender, stage
):
    txn = await stage.sale("9.00")
    body = b'{"type":"transaction.created","data":{"transaction_id":%d}}' % txn
    headers = sender.headers(body, message_id="msg_replayed")
    assert (await sender.post(body, headers=headers)).json()["status"] == "accepted"

    replayed = await sender.post(body, headers=headers)
    retried = await sender.post(body, message_id="msg_replayed")  # fresh timestamp, same id

    assert [replayed.status_code, retried.status_code] == [200, 200]
    assert [replayed.json()["status"], retried.json()["status"]] == ["replayed", "replayed"]
    assert await stored_counts(container) == {"inbox": 1, "jobs": 1, "idempotency_keys": 1}


async def test_a_delivery_id_reused_for_another_body_is_refused(container, sender, stage):
    first, second = await stage.sale("1.00"), await stage.sale("2.00")
    assert (await sender.hint(first, message_id="msg_same")).status_code == 200

    reused = await sender.hint(second, message_id="msg_same")

    assert reused.status_code == 422
    assert reused.json()["error"] == "delivery_id_reused"
    assert [h.payload["transaction_id"] for h in await hints(container)] == [str(first)]


async def test_paytrace_down_at_delivery_time_still_200_and_the_fetch_job_retries_until_paytrace_answers(  # noqa: E501
    database_url, tmp_path, stage
):
    settings = webhook_settings(
        database_url,
        tmp_path,
        stage.url,
        refetch_timeout_seconds=1.0,
        worker=WorkerSettings(
            poll_interval_seconds=0.02, backoff_base_seconds=0.05, backoff_cap_seconds=0.1
        ),
    )
    container = await open_container(
        settings, {"paytrace-password": "demo123", "paytrace-webhook-secret": SECRET}
    )
    try:
        txn = await stage.sale("31.00")
        stage.sandbox.faults.settings.update({"outage": True})
        app = create_app(container, embedded_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
        ) as http:
            response = await Sender(http).hint(txn)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "accepted"

        await run_fetch_jobs(container)  # PayTrace still down: attempts fail, none is lost
        (fetch,) = await fetch_jobs(container)
        assert fetch.status == "pending" and fetch.attempts >= 1
        assert "TransientError" in fetch.last_error
        assert [h.status for h in await hints(container)] == ["received"]
        assert await inbox_payments(container) == {}

        stage.sandbox.faults.settings.update({"outage": False})
        for _ in range(50):  # until the retry's backoff has passed and it ran
            await run_fetch_jobs(container)
            if (await fetch_jobs(container))[0].status != "pending":
                break
            await asyncio.sleep(0.05)

        assert list(await inbox_payments(container)) == [f"paytrace:{txn}:sale:approved"]
        (fetch,) = await fetch_jobs(container)
        assert fetch.status == "done" and fetch.attempts >= 2
        assert [h.status for h in await hints(container)] == ["processed"]
    finally:
        stage.sandbox.faults.settings.update({"outage": False})
        await container.aclose()


async def test_a_hint_for_a_transaction_paytrace_does_not_know_becomes_a_dead_letter(
    container, sender
):
    response = await sender.hint(999_999_999)

    assert response.status_code == 200  # the sender's part is done: it sent a signed hint
    await run_fetch_jobs(container)

    (hint,) = await hints(container)
    assert hint.status == "parked"
    assert "paytrace does not know transaction 999999999" in hint.last_error
    (fetch,) = await fetch_jobs(container)
    assert (fetch.status, fetch.attempts) == ("dead", 1)  # no retries of a refusal
    assert "811" in fetch.last_error  # PayTrace's "Transaction ID ... not found"
    assert await inbox_payments(container) == {}
    # where an operator sees it: `payledger status` and the dead-letter alert
    seen = await overview(container.database)
    assert seen.inbox == {"parked": 1}
    assert [job["kind"] for job in seen.dead_jobs] == [FETCH_HINTED]
    async with container.database.transaction() as conn:
        later = container.clock.now() + timedelta(minutes=1)
        (alert,) = await dead_letters(conn, later, dialect=container.database.dialect)
    assert alert.key == "dead-letters"
    assert f"job {FETCH_HINTED} #{fetch.id}" in alert.text


async def test_card_data_in_what_paytrace_answers_is_never_stored_and_the_hint_is_parked(
    container, sender, stage
):
    leaky = PayTraceSaleDetails(discretionary_data={"D365 Order": "4111111111111111"})
    txn = await stage.sale("12.00", details=leaky)

    assert (await sender.hint(txn)).json()["status"] == "accepted"
    await run_fetch_jobs(container)

    (hint,) = await hints(container)
    assert hint.status == "parked"
    assert "card number" in hint.last_error and "4111111111111111" not in hint.last_error
    assert [j.status for j in await fetch_jobs(container)] == ["dead"]
    assert await inbox_payments(container) == {}
    assert await jobs_of(container, PROCESS_PAYMENT) == []


async def test_check_changes_are_acknowledged_and_left_to_the_poller(container, sender):
    response = await sender.post({"type": "check.created", "data": {"check_transaction_id": 5}})

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert await stored_counts(container) == {"inbox": 0, "jobs": 0, "idempotency_keys": 0}


async def test_both_secrets_are_accepted_while_one_is_rotated_in(database_url, tmp_path, stage):
    settings = webhook_settings(
        database_url, tmp_path, stage.url, paytrace_secrets=["webhook-new", "webhook-old"]
    )
    container = await open_container(
        settings, {"paytrace-password": "demo123", "webhook-old": SECRET}
    )
    try:
        app = create_app(container, embedded_worker=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://payledger.test"
        ) as http:
            old, new = Sender(http, SECRET, "msg_old"), Sender(http, ROTATED_SECRET, "msg_new")
            assert (await old.hint(await stage.sale("3.00"))).status_code == 200
            assert (await new.hint(await stage.sale("4.00"))).status_code == 401
            # the new secret is stored while the service runs: accepted without a restart,
            # as soon as the vault may be re-read (at most once a second, so forgeries cannot
            # hammer it)
            await container.vault.set("webhook-new", ROTATED_SECRET, actor="test")
            await asyncio.sleep(1.05)
            assert (await new.hint(await stage.sale("5.00"))).status_code == 200
            assert (await old.hint(await stage.sale("6.00"))).status_code == 200
        assert len(await hints(container)) == 3
    finally:
        await container.aclose()


async def test_the_sandbox_notifier_drives_payments_into_the_inbox(container, stage):
    app = create_app(container, embedded_worker=False)
    notifier = stage.sandbox.notifier
    notifier.url = "http://payledger.test/webhooks/paytrace"
    notifier.secret = SECRET
    notifier.transport = httpx.ASGITransport(app=app)

    kept, voided = await stage.sale("11.00"), await stage.sale("12.00")
    await stage.void(voided)
    deliveries = await notifier.flush()
    await run_fetch_jobs(container)

    assert [(d.delivered, d.status) for d in deliveries] == [(True, 200)] * 3
    assert len(await hints(container)) == 3
    # every hint is fetched after the void, so each sale is stored in its current state
    assert set(await inbox_payments(container)) == {
        f"paytrace:{kept}:sale:approved",
        f"paytrace:{voided}:sale:voided",
    }
