"""POST /webhooks/paytrace: a signed hint is re-fetched from PayTrace and committed once."""

from __future__ import annotations

import asyncio
import base64
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from payledger.adapters.db.tables import inbox, jobs
from payledger.bootstrap import Container
from payledger.domain import PaymentStatus
from payledger.domain.codec import payment_from_dict
from payledger.engine.payment_events import PROCESS_PAYMENT, SqlPaymentEventStore
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.web.app import create_app
from tests.integration.web.webhooks.stage import (
    NOTHING_STORED,
    SECRET,
    Sender,
    open_container,
    stored_counts,
    webhook_settings,
)

ROTATED_SECRET = "whsec_" + base64.b64encode(b"new-secret-after-rotation-0001").decode()


async def inbox_payments(container: Container) -> dict[str, Any]:
    async with container.database.transaction() as conn:
        rows = (await conn.execute(select(inbox).order_by(inbox.c.id))).all()
    return {row.external_id: payment_from_dict(row.payload) for row in rows}


async def test_a_signed_hint_puts_the_payment_fetched_from_paytrace_into_the_inbox(
    container, sender, stage
):
    txn = await stage.sale("42.17")

    response = await sender.hint(txn)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "accepted",
        "event_id": f"paytrace:{txn}:sale:approved",
        "detail": "",
    }
    payments = await inbox_payments(container)
    assert list(payments) == [f"paytrace:{txn}:sale:approved"]
    assert payments[f"paytrace:{txn}:sale:approved"].amount.amount == Decimal("42.17")
    async with container.database.transaction() as conn:
        job = (await conn.execute(select(jobs.c.kind, jobs.c.ordering_key))).one()
    assert (job.kind, job.ordering_key) == (PROCESS_PAYMENT, f"paytrace:{txn}")


async def test_what_is_stored_is_paytraces_current_state_not_what_the_hint_says(
    container, sender, stage
):
    txn = await stage.sale("10.00")
    await stage.void(txn)

    response = await sender.hint(txn, "created")  # a late, out-of-order notification

    assert response.json()["event_id"] == f"paytrace:{txn}:sale:voided"
    payment = (await inbox_payments(container))[f"paytrace:{txn}:sale:voided"]
    assert payment.status is PaymentStatus.VOIDED


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

    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert (await stored_counts(container))["inbox"] == 1
    assert (await stored_counts(container))["jobs"] == 1


async def test_two_deliveries_about_one_payment_state_store_it_once(container, sender, stage):
    txn = await stage.sale("7.00")

    first = await sender.hint(txn, "created")
    second = await sender.hint(txn, "created")  # another delivery (new webhook-id)

    assert [first.json()["status"], second.json()["status"]] == ["accepted", "duplicate"]
    assert (await stored_counts(container))["inbox"] == 1


async def test_a_replayed_delivery_is_acknowledged_without_being_processed_again(
    container, sender, stage
):
    txn = await stage.sale("9.00")
    body = b'{"type":"transaction.created","data":{"transaction_id":%d}}' % txn
    headers = sender.headers(body, message_id="msg_replayed")
    assert (await sender.post(body, headers=headers)).json()["status"] == "accepted"
    await stage.void(txn)  # a re-fetch now would find a new state and store it

    replayed = await sender.post(body, headers=headers)
    retried = await sender.post(body, message_id="msg_replayed")  # fresh timestamp, same id

    assert [replayed.status_code, retried.status_code] == [200, 200]
    assert [replayed.json()["status"], retried.json()["status"]] == ["replayed", "replayed"]
    assert list(await inbox_payments(container)) == [f"paytrace:{txn}:sale:approved"]


async def test_a_delivery_id_reused_for_another_body_is_refused(container, sender, stage):
    first, second = await stage.sale("1.00"), await stage.sale("2.00")
    assert (await sender.hint(first, message_id="msg_same")).status_code == 200

    reused = await sender.hint(second, message_id="msg_same")

    assert reused.status_code == 422
    assert reused.json()["error"] == "delivery_id_reused"
    assert (await stored_counts(container))["inbox"] == 1


async def test_an_unknown_transaction_is_refused_and_nothing_is_stored(container, sender):
    response = await sender.hint(999_999_999)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unknown_transaction"
    assert body["problems"] == [
        {"field": "body.data.transaction_id", "problem": "unknown to PayTrace"}
    ]
    assert await stored_counts(container) == NOTHING_STORED


async def test_check_changes_are_acknowledged_and_left_to_the_poller(container, sender):
    response = await sender.post({"type": "check.created", "data": {"check_transaction_id": 5}})

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert await stored_counts(container) == NOTHING_STORED


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
        assert (await stored_counts(container))["inbox"] == 3
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

    assert [(d.delivered, d.status) for d in deliveries] == [(True, 200)] * 3
    stored = await inbox_payments(container)
    assert f"paytrace:{kept}:sale:approved" in stored
    assert f"paytrace:{voided}:sale:voided" in stored
    # a hint delivered before the void was processed may also have stored the approval
    assert set(stored) <= {
        f"paytrace:{kept}:sale:approved",
        f"paytrace:{voided}:sale:approved",
        f"paytrace:{voided}:sale:voided",
    }
