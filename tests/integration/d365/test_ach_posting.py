"""ACH (PayTrace check) payments reach D365 as customer payment journal lines, like card ones.

Checks are made in the PayTrace sandbox, observed through the poller's source (the export),
turned into postings by the posting flow on a real database and flushed to the F&O sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from payledger.adapters.d365.posting import D365PostingLedger
from payledger.adapters.paytrace import PayTraceCheck, PayTraceClient, PayTraceSaleDetails
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.config import D365Settings as D365Configuration
from payledger.config import Settings
from payledger.domain import Payment, PaymentKind
from payledger.domain.posting import LedgerOperation, PostingState
from payledger.engine.queue import Queue
from payledger.flows.post_journals import FlushJournals, flush_journals
from payledger.flows.post_payment import (
    PostingRules,
    PostingTemplates,
    WaitingForOriginal,
    post_payment,
)
from payledger.sandbox.paytrace import PayTraceSandbox, PayTraceSandboxSettings, create_app
from payledger.stores.postings import SqlPostingStore
from tests.integration.d365.journals import posting_templates

START = datetime(2026, 3, 24, 17, 15, 2, tzinfo=UTC)
TODAY = date(2026, 3, 24)
ACCOUNT = PayTraceCheck(account_number="123456789", routing_number="325070760")
RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-001"
)
FLUSH = FlushJournals(company="usmf", journal_name="CustPay", max_lines=10, parallel_requests=2)


@pytest.fixture
def paytrace_app() -> FastAPI:
    settings = PayTraceSandboxSettings(
        clock_start=START, seed=3, discretionary_fields=("D365 Order", "D365 Customer")
    )
    return create_app(settings)


@pytest.fixture
def paytrace_sandbox(paytrace_app: FastAPI) -> PayTraceSandbox:
    return paytrace_app.state.sandbox


@pytest.fixture
async def paytrace(
    paytrace_app: FastAPI, paytrace_sandbox: PayTraceSandbox
) -> AsyncIterator[PayTraceClient]:
    transport = httpx.ASGITransport(app=paytrace_app)
    async with PayTraceClient(
        "http://paytrace.test",
        "demo123",
        "demo123",
        "payledger-test",
        transport=transport,
        clock=paytrace_sandbox.clock,
    ) as client:
        yield client


@pytest.fixture
def templates() -> PostingTemplates:
    return posting_templates(
        Settings(d365=D365Configuration(payment_method="CREDITCARD", ach_payment_method="ACH"))
    )


@pytest.fixture
def store(database, paytrace_sandbox) -> SqlPostingStore:
    return SqlPostingStore(Queue(database, clock=paytrace_sandbox.clock))


@pytest.fixture
def posting_ledger(ledger) -> D365PostingLedger:
    return D365PostingLedger(ledger)


async def observed(paytrace: PayTraceClient) -> dict[str, Payment]:
    """What the poller's source sees today, by gateway id."""
    return {p.gateway_txn_id: p for p in await PayTraceGateway(paytrace).payments_on(TODAY)}


async def journal_lines(control) -> dict[str, dict]:
    rows = (
        await control.get("/_sandbox/state/CustomerPaymentJournalLines", params={"company": "usmf"})
    ).json()
    rows = rows if isinstance(rows, list) else rows["value"]
    return {row["PaymentReference"]: row for row in rows}


def details(order: str = "") -> PayTraceSaleDetails:
    return PayTraceSaleDetails(
        invoice_id="WEB-ACH-1",
        customer_reference_id=order or None,
        discretionary_data={"D365 Customer": "US-002"},
    )


async def test_an_ach_sale_and_refund_become_a_credit_and_a_reversing_line(
    paytrace, store, posting_ledger, templates, control
):
    sale = await paytrace.check_sale_by_account(
        Decimal("42.10"), ACCOUNT, details=details(order="PG-ORDER-1001")
    )
    refund = await paytrace.check_refund(sale.check_transaction_id, Decimal("10.00"))
    declined = await paytrace.check_sale_by_account(Decimal("1.12"), ACCOUNT, details=details())
    payments = await observed(paytrace)
    sale_id, refund_id = f"CHK-{sale.check_transaction_id}", f"CHK-{refund.check_transaction_id}"
    declined_id = f"CHK-{declined.check_transaction_id}"

    async def process(inbox_id: int, gateway_id: str) -> None:
        await post_payment(
            inbox_id,
            payments[gateway_id],
            rules=RULES,
            templates=templates,
            ledger=posting_ledger,
            store=store,
        )

    with pytest.raises(WaitingForOriginal, match=sale_id):
        await process(1, refund_id)  # the refund arrived first: it waits for its sale
    await process(2, sale_id)
    await process(3, refund_id)
    await process(4, declined_id)
    result = await flush_journals(FLUSH, store=store, ledger=posting_ledger)

    assert (result.posted, result.dead) == (4, 0)  # two lines, two order status updates
    found = await journal_lines(control)
    credit, debit = found[f"PT-{sale_id}-PAY"], found[f"PT-{refund_id}-REF"]
    assert Decimal(str(credit["CreditAmount"])) == Decimal("42.10")
    assert Decimal(str(credit["DebitAmount"])) == 0
    assert Decimal(str(debit["DebitAmount"])) == Decimal("10.00")
    assert Decimal(str(debit["CreditAmount"])) == 0
    for line in (credit, debit):
        assert line["AccountType"] == "Cust"
        assert line["AccountDisplayValue"] == "US\\-002"  # from the check's discretionary data
        assert line["PaymentMethodName"] == "ACH"
        assert line["OffsetAccountDisplayValue"] == "USMF OPER"
    assert (credit["PaymentId"], debit["PaymentId"]) == (sale_id, refund_id)
    assert credit["JournalBatchNumber"] == debit["JournalBatchNumber"]
    assert not any(declined_id in reference for reference in found)  # a 125 posts nothing
    orders = (await control.get("/_sandbox/state/SalesOrderHeadersV2")).json()
    orders = orders if isinstance(orders, list) else orders["value"]
    [order] = [o for o in orders if o["CustomersOrderReference"] == "PG-ORDER-1001"]
    assert (order["PaymentStatus"], order["PaymentAmount"]) == ("Refunded", 10)  # the latest


async def test_a_voided_check_removes_its_line_from_the_open_journal(
    paytrace, store, posting_ledger, templates, control
):
    sale = await paytrace.check_sale_by_account(Decimal("55.00"), ACCOUNT, details=details())
    gateway_id = f"CHK-{sale.check_transaction_id}"
    approved = (await observed(paytrace))[gateway_id]
    await post_payment(
        1, approved, rules=RULES, templates=templates, ledger=posting_ledger, store=store
    )
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert f"PT-{gateway_id}-PAY" in await journal_lines(control)

    await paytrace.check_void(sale.check_transaction_id)
    voided = (await observed(paytrace))[gateway_id]
    assert voided.kind is PaymentKind.ACH_SALE
    await post_payment(
        2, voided, rules=RULES, templates=templates, ledger=posting_ledger, store=store
    )
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)

    assert f"PT-{gateway_id}-PAY" not in await journal_lines(control)
    removal = await store.find(gateway_id, LedgerOperation.REMOVAL)
    assert removal is not None and removal.state is PostingState.POSTED


async def test_a_check_and_a_card_with_the_same_number_are_two_lines(
    paytrace, store, posting_ledger, templates, control
):
    check = await paytrace.check_sale_by_account(Decimal("12.00"), ACCOUNT, details=details())
    number = check.check_transaction_id
    ach = (await observed(paytrace))[f"CHK-{number}"]
    card = Payment(  # a card transaction whose id happens to equal the check's
        str(number), PaymentKind.SALE, ach.status, ach.amount, ach.occurred_at
    )
    for inbox_id, payment in enumerate((card, ach), 1):
        await post_payment(
            inbox_id, payment, rules=RULES, templates=templates, ledger=posting_ledger, store=store
        )
    result = await flush_journals(FLUSH, store=store, ledger=posting_ledger)

    found = await journal_lines(control)
    assert result.posted == 2
    assert found[f"PT-{number}-PAY"]["PaymentMethodName"] == "CREDITCARD"
    assert found[f"PT-CHK-{number}-PAY"]["PaymentMethodName"] == "ACH"
