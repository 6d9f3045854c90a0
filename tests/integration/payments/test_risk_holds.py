"""Automatic charges screened before PayTrace is called, with the real scorer, both sandboxes
and payledger's container, on SQLite and PostgreSQL (``[risk] mode = "enforce"``).

An auto-pay charge that scores ``review`` is held: nothing is charged or posted, the business
event shows ``held``. Approval charges it exactly once (two operators approving at once, and
the release job run again, change nothing) and posts it once, without a second review of its
posting; rejection never charges it and says so. A corrupt model file holds nothing back: the
rules score alone and one ``risk-model`` alert is raised.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import alerts, jobs
from payledger.bootstrap.risk import decide, review_queue
from payledger.config import (
    AlertsSettings,
    RiskModelSettings,
    RiskRuleSettings,
    RiskSettings,
    Settings,
)
from payledger.engine.jobs import NewJob
from payledger.flows.ports.risk import HeldKind, ReviewState
from payledger.stores.business_events import PROCESS_BUSINESS_EVENT
from tests.integration.payments.conftest import EVENTS_KEY, drain, money, post_invoice, rows
from tests.integration.payments.test_business_events import URL, card_on_file, sales_for, stored

pytestmark = pytest.mark.usefixtures("deliver_events_to_payledger")


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Enforced screening where a new customer's first charge above 100 goes to review."""
    risk = RiskSettings(
        mode="enforce",
        rules=RiskRuleSettings(
            new_customer_amount=money("100"), weights={"new_customer_large": 0.9}
        ),
        model=RiskModelSettings(directory=tmp_path / "risk-models"),
    )
    alerting = AlertsSettings(gather_seconds=0)  # sent at once: the queue drains
    return settings.model_copy(update={"risk": risk, "alerts": alerting})


@pytest.fixture
def deliver_events_to_payledger(stage, app):
    """Point the D365 sandbox's business-event endpoint at payledger (in-process)."""
    stage.d365.state.settings.events_transport = httpx.ASGITransport(app=app)
    stage.d365.state.settings.update(
        {
            "business_events_url": f"http://payledger.test{URL}?key={EVENTS_KEY}",
            "business_event_retry_interval_s": 0.05,
        }
    )


async def held_invoice(d365, paytrace, container, account: str) -> str:
    """Auto-pay of a new customer's 315.40 invoice (340.63 with tax), held for review."""
    await card_on_file(container, paytrace, account)
    posted = await post_invoice(d365, account, "315.40", tax_amount="25.23")
    await d365.post("/_sandbox/events/flush")
    await drain(container)
    return str(posted["invoice"]["InvoiceNumber"])


async def alert_keys(container) -> list[str]:
    async with container.database.transaction() as conn:
        return list((await conn.execute(select(alerts.c.key).order_by(alerts.c.key))).scalars())


async def test_a_held_auto_charge_is_charged_once_on_approval_and_posted_once(
    d365, paytrace, container
):
    invoice = await held_invoice(d365, paytrace, container, "US-003")

    assert await sales_for(paytrace, container, invoice) == []  # PayTrace never called
    assert await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice) == []
    [event] = await stored(container)
    assert event.status == "held" and "held for risk review" in event.outcome
    [item] = await review_queue(container).items()
    assert (item.kind, item.ref, item.transaction_id) == (
        HeldKind.CHARGE,
        f"d365-auto-pay:{invoice}",
        f"charge:d365-auto-pay:{invoice}",  # until PayTrace gives it a transaction id
    )
    assert item.amount.amount == money("340.63")
    assert item.reasons[0].code == "new_customer_large"
    assert f"risk-review:charge:d365-auto-pay:{invoice}" in await alert_keys(container)

    first, second = await asyncio.gather(
        decide(container, item.id, approve=True, actor="cli:ops", comment="known buyer"),
        decide(container, item.id, approve=True, actor="console:lead", comment="ok"),
    )
    assert sorted([first.applied, second.applied]) == [False, True]
    await drain(container)
    # the release job run again (a redelivered job): the event is charged, nothing more
    async with container.database.transaction() as conn:
        await container.queue.enqueue(
            conn, NewJob(PROCESS_BUSINESS_EVENT, {"business_event_id": event.id})
        )
    await drain(container)

    [sale] = await sales_for(paytrace, container, invoice)
    assert sale.amount == money("340.63")
    [line] = await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)
    assert line["PaymentId"] == str(sale.transaction_id)
    [event] = await stored(container)
    assert event.status == "charged"
    [decided] = await review_queue(container).items(None)  # its posting was not held again
    assert decided.state is ReviewState.APPROVED
    assert decided.transaction_id == str(sale.transaction_id)
    async with container.database.transaction() as conn:
        released = (
            await conn.execute(select(jobs.c.kind).where(jobs.c.dedupe_key.like("risk-release:%")))
        ).all()
    assert [r.kind for r in released] == [PROCESS_BUSINESS_EVENT]


async def test_a_rejected_auto_charge_is_never_made_and_the_event_says_so(
    d365, paytrace, container
):
    invoice = await held_invoice(d365, paytrace, container, "US-004")
    [item] = await review_queue(container).items()

    decided = await decide(container, item.id, approve=False, actor="cli:ops", comment="fraud")
    assert decided.applied and decided.item.state is ReviewState.REJECTED
    await drain(container)

    assert await sales_for(paytrace, container, invoice) == []
    assert await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice) == []
    [event] = await stored(container)
    assert event.status == "rejected" and "rejected in risk review by cli:ops" in event.outcome
    assert f"risk-rejected:charge:d365-auto-pay:{invoice}" in await alert_keys(container)


@pytest.fixture
def corrupt_model(settings: Settings) -> None:
    models = settings.risk.model.directory
    (models / "versions").mkdir(parents=True)
    (models / "versions" / "v1.npz").write_bytes(b"not a model at all")
    (models / "versions" / "v1.json").write_text("{ broken")
    (models / "current").write_text("v1")


@pytest.mark.usefixtures("corrupt_model")
async def test_a_corrupt_model_holds_nothing_back_and_raises_one_alert(d365, paytrace, container):
    await card_on_file(container, paytrace, "US-005")
    invoices = []
    for amount in ("40.00", "45.00"):  # below the new-customer limit: the rules allow them
        posted = await post_invoice(d365, "US-005", amount)
        invoices.append(posted["invoice"]["InvoiceNumber"])
    await d365.post("/_sandbox/events/flush")
    await drain(container)

    for invoice in invoices:
        assert len(await sales_for(paytrace, container, invoice)) == 1
        assert len(await rows(d365, "CustomerPaymentJournalLines", MarkedInvoice=invoice)) == 1
    assert [e.status for e in await stored(container)] == ["charged", "charged"]
    assert (await alert_keys(container)).count("risk-model") == 1
    assert await review_queue(container).items(None) == []
