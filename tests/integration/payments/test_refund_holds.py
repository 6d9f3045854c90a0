"""Refunds through the payments API screened before PayTrace is called, with the real scorer,
both sandboxes and payledger's container, on SQLite and PostgreSQL (``[risk] mode =
"enforce"``, refunds above half their sale score ``review``).

A refund that trips the rule is answered ``202 held_for_review`` (the same answer to a replay
of its ``Idempotency-Key``) and PayTrace sees nothing; ``payledger risk review approve``
refunds it exactly once (the release job run again changes nothing) and its D365 debit line
is posted once; a rejected one is never refunded. ``GET`` of the payment says where each
stands. A refund the rule lets through is made at once, and PayTrace's export finds a refund
made by a release that was cut off (what keeps its retry from refunding twice).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from payledger.adapters.db.tables import alerts, jobs
from payledger.bootstrap.payments import card_gateway
from payledger.bootstrap.refunds import REFUND_HELD
from payledger.cli.risk import app as risk_app
from payledger.config import (
    AlertsSettings,
    RiskModelSettings,
    RiskRuleSettings,
    RiskSettings,
    Settings,
)
from payledger.domain.money import Money
from payledger.engine.jobs import NewJob
from payledger.stores.charge_records import SqlChargeRecords
from tests.integration.payments.conftest import drain, key, money, rows
from tests.integration.payments.test_follow_ups import a_sale


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Enforced screening where a refund above half its sale goes to review."""
    risk = RiskSettings(
        mode="enforce",
        rules=RiskRuleSettings(refund_factor=Decimal("0.5"), weights={"refund_larger": 0.9}),
        model=RiskModelSettings(directory=tmp_path / "risk-models"),
    )
    alerting = AlertsSettings(gather_seconds=0, dedup_window_seconds=0)  # sent at once: drains
    return settings.model_copy(update={"risk": risk, "alerts": alerting})


async def settled_sale(api, paytrace, d365, container) -> str:
    sale = await a_sale(api, paytrace, d365, "100.00")
    await drain(container)
    await paytrace.settle()
    return str(sale["id"])


async def refunds_at_paytrace(paytrace, container, sale_id: str) -> list:
    today = container.clock.now().date()
    found = await paytrace.export_transactions(
        today - timedelta(days=1), today + timedelta(days=1), transaction_type="REFUND"
    )
    return [t for t in found if str(t.original_transaction_id) == sale_id]


async def decide_in_cli(settings: Settings, verb: str, review_id: int) -> str:
    """``payledger risk review <verb> ID`` as an operator runs it (its own container)."""
    root = typer.Typer()

    @root.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = {"settings": settings}

    root.add_typer(risk_app, name="risk")
    args = ["risk", "review", verb, str(review_id), "--comment", "checked"]
    result = await asyncio.to_thread(CliRunner().invoke, root, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


async def held_refund(api, sale_id: str) -> tuple[dict, dict[str, str]]:
    headers = key()
    response = await api.post(f"/api/v1/payments/{sale_id}/refund", json={}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json(), headers


async def test_a_held_refund_is_made_once_on_approval_and_posted_once(
    api, paytrace, d365, container, settings
):
    sale_id = await settled_sale(api, paytrace, d365, container)

    held, headers = await held_refund(api, sale_id)
    assert (held["status"], held["payment_id"], money(held["amount"])) == (
        "held_for_review",
        sale_id,
        money("100.00"),
    )
    replay = await api.post(f"/api/v1/payments/{sale_id}/refund", json={}, headers=headers)
    assert (replay.status_code, replay.json()) == (202, held)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert await refunds_at_paytrace(paytrace, container, sale_id) == []  # never called
    other = await api.post(
        f"/api/v1/payments/{sale_id}/refund", json={"amount": "10.00"}, headers=key()
    )
    assert (other.status_code, other.json()["error"]) == (409, "refund_waiting_for_review")
    read = (await api.get(f"/api/v1/payments/{sale_id}")).json()
    assert [(r["review_id"], r["status"]) for r in read["refund_reviews"]] == [
        (held["review_id"], "held")
    ]
    assert money(read["refunded_amount"]) == 0

    output = await decide_in_cli(settings, "approve", held["review_id"])
    assert "approved, 1 released" in output
    await drain(container)
    async with container.database.transaction() as conn:  # the release job delivered again
        released = (
            await conn.execute(select(jobs.c.payload).where(jobs.c.kind == REFUND_HELD))
        ).scalar_one()
        await container.queue.enqueue(conn, NewJob(REFUND_HELD, dict(released)))
    await drain(container)

    [refund] = await refunds_at_paytrace(paytrace, container, sale_id)
    assert refund.amount == money("100.00")
    lines = await rows(d365, "CustomerPaymentJournalLines")
    [debit] = [
        line for line in lines if line["PaymentReference"] == f"PT-{refund.transaction_id}-REF"
    ]
    assert money(debit["DebitAmount"]) == money("100.00")
    read = (await api.get(f"/api/v1/payments/{sale_id}")).json()
    assert (read["status"], money(read["refunded_amount"])) == ("refunded", money("100.00"))
    [review] = read["refund_reviews"]
    assert (review["status"], review["refund_id"]) == ("refunded", str(refund.transaction_id))


async def test_the_gateway_finds_a_refund_an_interrupted_release_made(
    api, paytrace, d365, container
):
    sale_id = await settled_sale(api, paytrace, d365, container)
    before = container.clock.now() - timedelta(minutes=1)
    response = await api.post(
        f"/api/v1/payments/{sale_id}/refund", json={"amount": "30.00"}, headers=key()
    )
    assert response.status_code == 201, response.text

    gateway = await card_gateway(container)
    original = await SqlChargeRecords(container.inbox).get(sale_id)
    assert original is not None
    found = await gateway.find_refund(original, Money.of("30.00"), before)
    assert found is not None
    assert (found.gateway_txn_id, found.original_txn_id) == (
        response.json()["refund"]["id"],
        sale_id,
    )
    assert await gateway.find_refund(original, Money.of("31.00"), before) is None


async def test_a_rejected_refund_is_never_made(api, paytrace, d365, container, settings):
    sale_id = await settled_sale(api, paytrace, d365, container)
    held, _headers = await held_refund(api, sale_id)

    output = await decide_in_cli(settings, "reject", held["review_id"])
    assert "rejected" in output
    await drain(container)

    assert await refunds_at_paytrace(paytrace, container, sale_id) == []
    read = (await api.get(f"/api/v1/payments/{sale_id}")).json()
    assert [r["status"] for r in read["refund_reviews"]] == ["rejected"]
    assert (read["status"], money(read["refunded_amount"])) == ("approved", 0)
    async with container.database.transaction() as conn:
        keys = list((await conn.execute(select(alerts.c.key))).scalars())
    assert any(k.startswith(f"risk-rejected:refund:{sale_id}:") for k in keys)


async def test_a_refund_the_rules_let_through_is_made_at_once(api, paytrace, d365, container):
    sale_id = await settled_sale(api, paytrace, d365, container)

    response = await api.post(
        f"/api/v1/payments/{sale_id}/refund", json={"amount": "40.00"}, headers=key()
    )

    assert response.status_code == 201, response.text
    [refund] = await refunds_at_paytrace(paytrace, container, sale_id)
    assert str(refund.transaction_id) == response.json()["refund"]["id"]
    assert (await api.get(f"/api/v1/payments/{sale_id}")).json()["refund_reviews"] == []
