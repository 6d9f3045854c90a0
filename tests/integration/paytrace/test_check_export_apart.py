"""Check (ACH) exports when the account does not mix checks into the transaction export.

The sandbox keeps checks out of ``/v1/transactions/export/by_date_range`` here and answers only
its invented ``/v1/checks/export/by_date_range``; the connector reads that path when configured
to, and looks for no checks at all when ``check_export`` is empty.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from payledger.adapters.db.tables import inbox
from payledger.adapters.paytrace import PayTraceCheck, PayTracePaths
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.sandbox.paytrace import PayTraceSandboxSettings
from payledger.stores.payment_events import SqlPaymentEventStore
from tests.integration.paytrace.conftest import START

TODAY = date(2026, 3, 24)
ACCOUNT = PayTraceCheck(account_number="123456", routing_number="325070760")
CHECK_EXPORT = PayTracePaths(check_export="/v1/checks/export/by_date_range")


@pytest.fixture
def settings() -> PayTraceSandboxSettings:
    """A sandbox that keeps checks out of the transaction export."""
    return PayTraceSandboxSettings(clock_start=START, seed=7, checks_in_transaction_export=False)


async def test_a_separate_check_export_is_read_when_configured(make_client, card, details):
    async with make_client(paths=CHECK_EXPORT) as client:
        sale = await client.sale_keyed(D("10.00"), card(), details=details())
        ach = await client.check_sale_by_account(D("42.10"), ACCOUNT)
        export = await client.export_payments(TODAY, TODAY)

    assert [t.transaction_id for t in export.transactions] == [sale.transaction_id]
    assert [c.check_transaction_id for c in export.checks] == [ach.check_transaction_id]


async def test_the_default_path_then_finds_no_checks_and_an_empty_one_does_not_look(
    make_client, client
):
    await client.check_sale_by_account(D("42.10"), ACCOUNT)
    assert (await client.export_payments(TODAY, TODAY)).checks == []  # not mixed in here
    async with (
        make_client(paths=CHECK_EXPORT) as reading,
        make_client(paths=PayTracePaths(check_export="")) as not_looking,
    ):
        assert len(await reading.export_checks(TODAY, TODAY)) == 1
        assert await not_looking.export_checks(TODAY, TODAY) == []
        assert (await not_looking.export_payments(TODAY, TODAY)).checks == []


async def test_the_poller_stores_each_check_state_once_under_its_own_key(
    database, make_client, sandbox
):
    store = SqlPaymentEventStore(Inbox(Queue(database, clock=sandbox.clock)))
    command = PollPayments(overlap=timedelta(minutes=30), first_lookback=timedelta(hours=6))
    async with make_client(paths=CHECK_EXPORT) as client:
        source = PayTraceGateway(client)
        ach = await client.check_sale_by_account(D("42.10"), ACCOUNT)
        first = await poll_payments(command, source=source, store=store, clock=sandbox.clock)
        await client.settle()
        second = await poll_payments(command, source=source, store=store, clock=sandbox.clock)

    async with database.transaction() as conn:
        keys = (await conn.execute(select(inbox.c.external_id).order_by(inbox.c.id))).scalars()
        stored = list(keys)
    assert (first.new, second.new, second.duplicates) == (1, 1, 0)
    assert stored == [
        f"paytrace:CHK-{ach.check_transaction_id}:ach_sale:approved",
        f"paytrace:CHK-{ach.check_transaction_id}:ach_sale:settled",
    ]
