"""Both sandboxes in-process and a seeded settlement scenario, for reconciliation tests.

The PayTrace day under reconciliation is 2026-03-24 (Pacific). One sale of 2026-03-21 settles
only in that day's batch (a timing difference); one sale of 2026-03-21 settled in an earlier
batch is refunded on the 24th. D365 lines are written directly into the F&O sandbox, the way a
posting run (or a person) would have left them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from payledger.adapters.d365 import D365Client, D365Ledger, D365Settings, EntraIdCredential
from payledger.adapters.d365.odata import escape_display_value
from payledger.adapters.d365.posting import D365PostingLedger
from payledger.adapters.d365.reconcile import D365DepositJournal, D365PaymentLines
from payledger.adapters.d365.throttle import RetryPolicy as D365Retry
from payledger.adapters.paytrace import (
    PayTraceCheck,
    PayTraceClient,
    PayTraceEncryptedCard,
    PayTraceSaleDetails,
    RetryPolicy,
)
from payledger.adapters.paytrace.settlement import PayTraceSettlement
from payledger.config import Settings
from payledger.domain.clock import ManualClock
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.paytrace import PayTraceSandboxSettings, encrypt_field
from payledger.sandbox.paytrace import create_app as create_paytrace
from payledger.stores.reconciliation import SqlReconStore

D365_URL = "https://d365.sandbox.test"
START = datetime(2026, 3, 21, 17, 0, tzinfo=UTC)
"""10:00 Pacific on 2026-03-21."""
DAY = date(2026, 3, 24)
VISA, MASTERCARD, AMEX = "4012000098765439", "5499740000000057", "371449635392376"
SETTINGS = Settings(
    d365={"fee_account": "618160"},
    reconcile={"fees": {"VISA": {"percent": "2.9", "fixed": "0.30"}}, "deposits": True},
)


@dataclass
class Sandboxes:
    paytrace_app: Any
    d365_app: Any
    paytrace: PayTraceClient
    d365: D365Client

    @property
    def paytrace_clock(self) -> Any:
        return self.paytrace_app.state.sandbox.clock

    def settlement(self) -> PayTraceSettlement:
        return PayTraceSettlement(self.paytrace, customer_title="D365 Customer")

    def lines(self) -> D365PaymentLines:
        return D365PaymentLines(self.d365, company="usmf", hand_keyed_methods=["ELECTRONIC"])

    def deposits(self) -> D365DepositJournal:
        return D365DepositJournal(self.d365, company="usmf")

    def posting_ledger(self) -> D365PostingLedger:
        return D365PostingLedger(D365Ledger(self.d365, D365Settings(company="usmf")))

    async def rows(self, entity_set: str, **match: Any) -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=self.d365_app)
        async with httpx.AsyncClient(transport=transport, base_url=D365_URL) as http:
            reply = await http.get(f"/_sandbox/state/{entity_set}", params={"company": "usmf"})
        return [r for r in reply.json()["value"] if all(r.get(k) == v for k, v in match.items())]


@pytest.fixture
async def sandboxes(signing_key_pem: str) -> AsyncIterator[Sandboxes]:
    paytrace_app = create_paytrace(
        PayTraceSandboxSettings(
            clock_start=START, seed=3, discretionary_fields=("D365 Order", "D365 Customer")
        )
    )
    d365_app = create_d365(D365SandboxSettings(signing_key_pem=signing_key_pem))
    d365_transport = httpx.ASGITransport(app=d365_app)
    credential = EntraIdCredential(
        tenant="payledger-sandbox",
        client_id="payledger-client",
        client_secret="payledger-secret",
        resource=D365_URL,
        authority_host=D365_URL,
        transport=d365_transport,
    )
    paytrace = PayTraceClient(
        "http://paytrace.test",
        "demo123",
        "demo123",
        "payledger-tests",
        transport=httpx.ASGITransport(app=paytrace_app),
        clock=paytrace_app.state.sandbox.clock,
        retry=RetryPolicy(lookup_delay_s=0),
    )
    retry = D365Retry(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)
    async with D365Client(D365_URL, credential, transport=d365_transport, retry=retry) as d365:
        try:
            yield Sandboxes(paytrace_app, d365_app, paytrace, d365)
        finally:
            await paytrace.aclose()
            await credential.aclose()


@dataclass
class Scenario:
    """The seeded day: transaction ids by role, and the batch of the day."""

    sandboxes: Sandboxes
    txns: dict[str, str] = field(default_factory=dict)
    batch: str = ""
    journal: str = ""
    next_line: int = 1

    async def sale(
        self, role: str, amount: str, *, customer: str = "US-001", card: str = VISA
    ) -> str:
        result = await self.sandboxes.paytrace.sale_keyed(
            Decimal(amount),
            PayTraceEncryptedCard(
                encrypted_number=encrypt_field(card), expiration_month=12, expiration_year=2030
            ),
            details=PayTraceSaleDetails(
                invoice_id=f"INV-{role}", discretionary_data={"D365 Customer": customer}
            ),
        )
        assert result.success, result
        self.txns[role] = str(result.transaction_id)
        return self.txns[role]

    async def ach_sale(self, role: str, amount: str) -> str:
        result = await self.sandboxes.paytrace.check_sale_by_account(
            Decimal(amount),
            PayTraceCheck(account_number="12345678", routing_number="325070760"),
            details=PayTraceSaleDetails(
                invoice_id=f"INV-{role}", discretionary_data={"D365 Customer": "US-004"}
            ),
        )
        assert result.success, result
        self.txns[role] = f"CHK-{result.check_transaction_id}"
        return self.txns[role]

    async def line(
        self,
        reference: str,
        amount: str,
        *,
        day: date = DAY,
        customer: str = "US-001",
        currency: str = "USD",
        debit: bool = False,
    ) -> None:
        d365 = self.sandboxes.d365
        if not self.journal:
            header = await d365.create(
                "CustomerPaymentJournalHeaders",
                {"dataAreaId": "usmf", "JournalName": "CustPay", "Description": "seeded"},
            )
            self.journal = str(header.values["JournalBatchNumber"])
        value = Decimal(amount)
        await d365.create(
            "CustomerPaymentJournalLines",
            {
                "dataAreaId": "usmf",
                "JournalBatchNumber": self.journal,
                "LineNumber": Decimal(self.next_line),
                "AccountType": "Cust",
                "AccountDisplayValue": escape_display_value(customer),
                "TransactionDate": day,
                "CurrencyCode": currency,
                "CreditAmount": Decimal(0) if debit else value,
                "DebitAmount": value if debit else Decimal(0),
                "PaymentMethodName": "ELECTRONIC",
                "PaymentReference": reference,
                "OffsetAccountType": "Bank",
                "OffsetAccountDisplayValue": "USMF OPER",
            },
        )
        self.next_line += 1

    def ref(self, role: str, code: str = "PAY") -> str:
        return f"PT-{self.txns[role]}-{code}"


async def seed_every_class(sandboxes: Sandboxes) -> Scenario:
    """One PayTrace transaction (or D365 line) per reconciliation class."""
    s = Scenario(sandboxes)
    paytrace, clock = sandboxes.paytrace, sandboxes.paytrace_clock
    earlier = await s.sale("earlier_batch", "80.00")
    await paytrace.settle()  # 2026-03-21: a batch outside the period
    await s.sale("timing", "33.00")  # created on the 21st, settles with the 24th's batch
    clock.advance_to(datetime(2026, 3, 24, 17, 0, tzinfo=UTC))
    refund = await paytrace.refund_transaction(int(earlier), Decimal("20.00"))
    s.txns["refund"] = str(refund.transaction_id)
    await s.sale("matched", "25.00", card=MASTERCARD)
    await s.sale("missing", "61.50", customer="US-002")
    await s.sale("amount", "50.00")
    await s.sale("currency", "40.00", card=AMEX)
    await s.sale("duplicate", "15.00")
    await s.sale("voided", "12.00")
    await paytrace.void(int(s.txns["voided"]))
    await s.sale("fee", "100.00", card=VISA)
    await s.sale("by_hand", "42.17", customer="US-002", card=MASTERCARD)
    await s.ach_sale("ach", "310.00")  # a check: settles with the day, without a batch number
    settled = await paytrace.settle()
    s.batch = str(settled.batch_number)

    await s.line(s.ref("earlier_batch"), "80.00", day=date(2026, 3, 21))
    await s.line(s.ref("timing"), "33.00", day=date(2026, 3, 21))
    await s.line(s.ref("refund", "REF"), "20.00", debit=True)
    await s.line(s.ref("matched"), "25.00")
    await s.line(s.ref("amount"), "55.00")
    await s.line(s.ref("currency"), "40.00", currency="EUR")
    await s.line(s.ref("duplicate"), "15.00")
    await s.line(s.ref("duplicate"), "15.00")
    await s.line(s.ref("voided"), "12.00")
    await s.line(s.ref("fee"), "96.80")  # 100.00 less 2.9% + 0.30
    await s.line("deposit slip 7", "42.17", customer="US-002")  # keyed by hand
    await s.line(s.ref("ach"), "310.00", customer="US-004")
    await s.line("PT-999999999-PAY", "19.99", customer="US-003")  # PayTrace never saw it
    await s.line("cheque 5531", "77.77", customer="US-003")  # keyed by hand, nothing behind it
    return s


@pytest.fixture
def recon_store(database) -> SqlReconStore:
    clock = ManualClock(datetime(2026, 3, 25, 10, 0, tzinfo=UTC))
    return SqlReconStore(Inbox(Queue(database, clock=clock)))
