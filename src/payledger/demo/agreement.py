"""Proof that PayTrace and D365 agree, amount by amount."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from payledger.adapters.d365 import D365Client, ODataQuery
from payledger.adapters.d365 import field as odata_field
from payledger.adapters.paytrace import PayTraceClient
from payledger.adapters.paytrace.translate import payment_from_export
from payledger.domain import Outcome, PaymentKind, PaymentStatus
from payledger.domain.posting import LedgerOperation, payment_reference


@dataclass
class Agreement:
    expected: dict[str, Decimal] = field(default_factory=dict)
    """Signed amount each ledger line must carry, by PaymentReference (credit positive)."""
    found: dict[str, Decimal] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Per kind: (PayTrace total, D365 total)."""

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.expected) - set(self.found))

    @property
    def unexpected(self) -> list[str]:
        return sorted(set(self.found) - set(self.expected))

    @property
    def wrong_amounts(self) -> list[str]:
        return sorted(
            r for r in self.expected if r in self.found and self.found[r] != self.expected[r]
        )

    @property
    def agrees(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_amounts or self.duplicates)


async def paytrace_expectations(
    paytrace: PayTraceClient, day: date
) -> tuple[dict[str, Decimal], Counter[str]]:
    """The ledger line every PayTrace transaction of ``day`` calls for."""
    expected: dict[str, Decimal] = {}
    kinds: Counter[str] = Counter()
    for record in await paytrace.export_transactions(day, day):
        payment = payment_from_export(record)
        kinds[f"{payment.kind.value}:{payment.status.value}"] += 1
        if payment.outcome is not Outcome.APPROVED or payment.status is PaymentStatus.VOIDED:
            continue
        if payment.kind in (PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.ACH_SALE):
            expected[payment_reference(payment.gateway_txn_id, LedgerOperation.PAYMENT)] = (
                payment.amount.amount
            )
        elif payment.kind in (PaymentKind.REFUND, PaymentKind.ACH_REFUND):
            expected[
                payment_reference(payment.gateway_txn_id, LedgerOperation.REFUND)
            ] = -payment.amount.amount
    return expected, kinds


async def d365_lines(
    d365: D365Client, company: str, journal_name_prefix: str = "PT-"
) -> tuple[dict[str, Decimal], list[str]]:
    query = ODataQuery("CustomerPaymentJournalLines").where(odata_field("dataAreaId").eq(company))
    found: dict[str, Decimal] = {}
    duplicates: list[str] = []
    async for row in d365.iterate(query.select("PaymentReference", "CreditAmount", "DebitAmount")):
        reference = str(row.get("PaymentReference", ""))
        if not reference.startswith(journal_name_prefix):
            continue
        if reference in found:
            duplicates.append(reference)
        found[reference] = Decimal(str(row["CreditAmount"])) - Decimal(str(row["DebitAmount"]))
    return found, duplicates


async def check_agreement(
    paytrace: PayTraceClient, d365: D365Client, *, company: str, day: date
) -> Agreement:
    expected, _ = await paytrace_expectations(paytrace, day)
    found, duplicates = await d365_lines(d365, company)
    agreement = Agreement(expected=expected, found=found, duplicates=duplicates)
    for suffix, kind in (("-PAY", "payments in"), ("-REF", "refunds")):
        agreement.totals[kind] = (
            sum((v for r, v in expected.items() if r.endswith(suffix)), Decimal(0)),
            sum((v for r, v in found.items() if r.endswith(suffix)), Decimal(0)),
        )
    return agreement
