"""Daily-summary posting: a settlement batch as one ledger line per payment method, pure.

In ``daily_summary`` mode payledger writes no line per payment. Once a batch is settled, its
transactions are grouped by payment method (the card brand, as PayTrace's batch report and
the fee schedule break it down, or ``ACH`` for checks), netted (sales less refunds) and
written as one line each: a credit when money came in, a debit when refunds outweigh sales.
A batch with expected fees gets one more line moving them to the fee account. Every line has
a deterministic reference built from the batch and the method, so it is written exactly once
however often the batch is seen; the members (which transaction is in which line) stay in
payledger.

The detail is kept from a payment's first event (:func:`payment_detail`), before any batch
settles: its batch and line are filled in when the batch does. A voided transaction stays in
the detail marked voided and is never summed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from payledger.domain.model import Payment, PaymentKind, PaymentStatus
from payledger.domain.money import Money, minor_units
from payledger.domain.posting import SUMMARY_OPERATION_PREFIX, LedgerOperation, plan_posting

FEE = "FEE"
"""The method key of a batch's fee line."""
ACH = "ACH"
"""The method key of check (ACH) transactions, and the label of their batches."""
CARD = "CARD"
"""The method key of a card whose brand the gateway did not tell."""
SUMMARY_PREFIX = "PT-SUM-"
SUMMARY_TXN_PREFIX = "batch:"


def summary_reference(batch: str, method: str) -> str:
    """The ``PaymentReference`` of a batch's line for ``method`` (``PT-SUM-<batch>-<method>``)."""
    return f"{SUMMARY_PREFIX}{batch}-{method}"


def is_summary_reference(reference: str) -> bool:
    return reference.startswith(SUMMARY_PREFIX)


def method_of(card_type: str) -> str:
    """The method key of a transaction of ``card_type`` (``ACH`` for checks)."""
    return card_type.upper() or CARD


def minor_money(minor: int, currency: str) -> Money:
    return Money(Decimal(minor).scaleb(-minor_units(currency)), currency)


@dataclass(frozen=True, slots=True)
class SummaryMember:
    """One settled transaction of a batch, and the method line it is summed into."""

    batch: str
    txn_id: str
    method: str
    operation: LedgerOperation
    """``PAYMENT`` (money in) or ``REFUND`` (money out)."""
    amount: Money
    """Positive, as the gateway reports it."""

    @property
    def signed(self) -> Money:
        return self.amount if self.operation is LedgerOperation.PAYMENT else -self.amount

    @property
    def reference(self) -> str:
        return summary_reference(self.batch, self.method)


@dataclass(frozen=True, slots=True)
class SettledBatch:
    """A settled batch as the summary sees it: its members and its expected fees."""

    number: str
    settled_on: date
    """The gateway's (vendor-local) day the batch closed: the lines' transaction date."""
    currency: str
    members: tuple[SummaryMember, ...]
    fees: Money


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One line a batch owes the ledger: a method's net, or the batch's fees (``FEE``)."""

    batch: str
    method: str
    amount: Money
    """Signed: positive is a credit (money in), negative a debit (refunds, fees)."""
    settled_on: date
    count: int
    """Transactions summed into it (0 for the fee line)."""

    @property
    def reference(self) -> str:
        return summary_reference(self.batch, self.method)

    @property
    def gateway_txn_id(self) -> str:
        """With :attr:`operation`, the line's key in payledger's postings."""
        return f"{SUMMARY_TXN_PREFIX}{self.batch}"

    @property
    def operation(self) -> str:
        return f"{SUMMARY_OPERATION_PREFIX}{self.method}"

    @property
    def is_fee(self) -> bool:
        return self.method == FEE


def summary_lines(batch: SettledBatch) -> list[SummaryLine]:
    """One line per method with a net other than zero (by method), then the fee line."""
    nets: dict[str, Money] = {}
    counts: dict[str, int] = {}
    for member in batch.members:
        nets[member.method] = nets.get(member.method, Money.zero(batch.currency)) + member.signed
        counts[member.method] = counts.get(member.method, 0) + 1
    lines = [
        SummaryLine(batch.number, method, nets[method], batch.settled_on, counts[method])
        for method in sorted(nets)
        if nets[method].amount
    ]
    if batch.fees.is_positive:
        lines.append(SummaryLine(batch.number, FEE, -batch.fees, batch.settled_on, 0))
    return lines


@dataclass(frozen=True, slots=True)
class PaymentDetail:
    """A transaction's detail row as one of its events leaves it, before its batch settles."""

    txn_id: str
    method: str
    operation: LedgerOperation
    """``PAYMENT`` (money in) or ``REFUND`` (money out)."""
    amount: Money
    """Positive, as the gateway reports it."""
    business_day: str
    """The company's business day of the payment (``YYYY-MM-DD``), as a per-payment line's."""
    voided: bool = False

    @property
    def signed(self) -> Money:
        return self.amount if self.operation is LedgerOperation.PAYMENT else -self.amount


_ACH_KINDS = frozenset({PaymentKind.ACH_SALE, PaymentKind.ACH_REFUND})


def payment_detail(payment: Payment, business_day: str) -> PaymentDetail | None:
    """The detail row an event keeps: sales, captures and ACH sales a payment row, refunds a
    refund row, a void its transaction's row marked voided (kept even when the void comes
    first, so the sale's event, arriving late, cannot un-void it); authorizations and
    declines keep nothing."""
    if _is_void(payment):
        money_out = payment.kind.moves_money_out
        operation = LedgerOperation.REFUND if money_out else LedgerOperation.PAYMENT
        txn_id = payment.root_txn_id if payment.kind is PaymentKind.VOID else payment.gateway_txn_id
    else:
        line = plan_posting(payment).line
        if line is None:
            return None
        operation, txn_id = line.operation, line.gateway_txn_id
    card_type = payment.token.card_type if payment.token else ""
    method = ACH if payment.kind in _ACH_KINDS else method_of(card_type)
    voided = _is_void(payment)
    return PaymentDetail(txn_id, method, operation, payment.amount, business_day, voided)


def _is_void(payment: Payment) -> bool:
    if payment.status is PaymentStatus.DECLINED:
        return False
    return payment.status is PaymentStatus.VOIDED or payment.kind is PaymentKind.VOID


DETAIL_COLUMNS = ("batch", "txn_id", "method", "kind", "amount", "currency", "line_reference")


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One transaction of the detail export: where it went in the ledger."""

    batch: str
    txn_id: str
    method: str
    kind: str
    amount: str
    """Signed decimal text: refunds negative."""
    currency: str
    line_reference: str


def detail_csv(rows: Iterable[DetailRow]) -> str:
    """The per-transaction detail behind the summary lines, one row per transaction."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DETAIL_COLUMNS)
    for row in rows:
        writer.writerow(
            [row.batch, row.txn_id, row.method, row.kind, row.amount, row.currency,
             row.line_reference]
        )  # fmt: skip
    return out.getvalue()
