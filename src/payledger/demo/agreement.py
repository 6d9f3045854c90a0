"""Proof that PayTrace and D365 agree, amount by amount."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from payledger.adapters.d365 import D365Client, ODataQuery
from payledger.adapters.d365 import field as odata_field
from payledger.adapters.paytrace import PayTraceClient
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.domain import Outcome, PaymentKind, PaymentStatus
from payledger.domain.posting import LedgerOperation, payment_reference

CARD_IN, CARD_OUT = "card payments in", "card refunds"
ACH_IN, ACH_OUT = "ACH payments in", "ACH refunds"
KIND_GROUPS = {
    PaymentKind.SALE: CARD_IN,
    PaymentKind.CAPTURE: CARD_IN,
    PaymentKind.REFUND: CARD_OUT,
    PaymentKind.ACH_SALE: ACH_IN,
    PaymentKind.ACH_REFUND: ACH_OUT,
}
"""The kinds that post a line, by the total they count towards."""


@dataclass
class Agreement:
    expected: dict[str, Decimal] = field(default_factory=dict)
    """Signed amount each ledger line must carry, by PaymentReference (credit positive)."""
    found: dict[str, Decimal] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Per group of kinds: (PayTrace total, D365 total); D365 lines are told card or ACH by
    their method of payment, so an ACH line posted as a card one shows here."""

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
    def totals_agree(self) -> bool:
        return all(expected == found for expected, found in self.totals.values())

    @property
    def agrees(self) -> bool:
        problems = self.missing or self.unexpected or self.wrong_amounts or self.duplicates
        return not problems and self.totals_agree


@dataclass
class Expected:
    amounts: dict[str, Decimal] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    """The total each expected reference counts towards."""
    kinds: Counter[str] = field(default_factory=Counter)


async def paytrace_expectations(paytrace: PayTraceClient, day: date) -> Expected:
    """The ledger line every PayTrace card and check transaction of ``day`` calls for."""
    expected = Expected()
    for payment in await PayTraceGateway(paytrace).payments_on(day):
        expected.kinds[f"{payment.kind.value}:{payment.status.value}"] += 1
        group = KIND_GROUPS.get(payment.kind)
        if payment.outcome is not Outcome.APPROVED or payment.status is PaymentStatus.VOIDED:
            continue
        if group is None:
            continue
        money_in = payment.kind.moves_money_in
        operation = LedgerOperation.PAYMENT if money_in else LedgerOperation.REFUND
        reference = payment_reference(payment.gateway_txn_id, operation)
        expected.amounts[reference] = payment.amount.amount if money_in else -payment.amount.amount
        expected.groups[reference] = group
    return expected


@dataclass
class Found:
    amounts: dict[str, Decimal] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)


async def d365_lines(d365: D365Client, company: str, journal_name_prefix: str = "PT-") -> Found:
    query = ODataQuery("CustomerPaymentJournalLines").where(odata_field("dataAreaId").eq(company))
    found = Found()
    columns = ("PaymentReference", "CreditAmount", "DebitAmount", "PaymentMethodName")
    async for row in d365.iterate(query.select(*columns)):
        reference = str(row.get("PaymentReference", ""))
        if not reference.startswith(journal_name_prefix):
            continue
        if reference in found.amounts:
            found.duplicates.append(reference)
        credit, debit = Decimal(str(row["CreditAmount"])), Decimal(str(row["DebitAmount"]))
        found.amounts[reference] = credit - debit
        found.methods[reference] = str(row.get("PaymentMethodName", ""))
    return found


def d365_group(amount: Decimal, method: str, ach_method: str) -> str:
    """The total a D365 line counts towards: its sign, and ACH when it carries the ACH method."""
    ach = method == ach_method
    if amount >= 0:
        return ACH_IN if ach else CARD_IN
    return ACH_OUT if ach else CARD_OUT


async def check_agreement(
    paytrace: PayTraceClient,
    d365: D365Client,
    *,
    company: str,
    day: date,
    ach_payment_method: str,
) -> Agreement:
    """Line by line and per group of kinds; ``ach_payment_method`` tells ACH lines in D365."""
    expected = await paytrace_expectations(paytrace, day)
    found = await d365_lines(d365, company)
    agreement = Agreement(
        expected=expected.amounts, found=found.amounts, duplicates=found.duplicates
    )
    for group in (CARD_IN, CARD_OUT, ACH_IN, ACH_OUT):
        in_paytrace = (v for r, v in expected.amounts.items() if expected.groups[r] == group)
        in_d365 = (
            v
            for r, v in found.amounts.items()
            if d365_group(v, found.methods[r], ach_payment_method) == group
        )
        agreement.totals[group] = (sum(in_paytrace, Decimal(0)), sum(in_d365, Decimal(0)))
    return agreement
