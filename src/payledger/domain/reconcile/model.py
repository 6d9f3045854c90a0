"""What settlement reconciliation compares and what it concludes, with no I/O.

Both sides arrive as compact records (named tuples, money in integer minor units, days as
date ordinals) so a million of each fit in memory and compare fast; amounts are exact because
each record carries its currency and its minor units are fixed by ISO 4217.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile.fees import FeeSchedule


class TxnState(StrEnum):
    """Where a gateway transaction stands at settlement time."""

    SETTLED = "settled"
    PENDING = "pending"
    """Approved and captured, waiting for its batch to close."""
    VOIDED = "voided"


class GatewayTxn(NamedTuple):
    """One PayTrace transaction as reconciliation sees it."""

    txn_id: str
    operation: LedgerOperation
    """``PAYMENT`` for money in (sale, capture, ACH sale), ``REFUND`` for money out."""
    state: TxnState
    amount: int
    """Minor units, positive."""
    currency: str
    batch: str
    """Settlement batch number; empty unless settled."""
    settled_day: int
    """Vendor-local date ordinal of the batch close; 0 unless settled."""
    created_day: int
    card_type: str
    customer: str
    """The D365 customer account when the gateway knows it, else empty."""
    in_period: bool
    """Settled in a batch of the period being reconciled (others only explain ledger lines)."""


class LedgerEntry(NamedTuple):
    """One D365 customer payment journal line."""

    line_id: str
    """``JournalBatchNumber/LineNumber``."""
    reference: str
    """``PaymentReference``; payledger's own are ``PT-<txn>-<PAY|REF|REV|REM>``."""
    amount: int
    """Signed minor units: credit (payment received) positive, debit (refund) negative."""
    currency: str
    day: int
    """``TransactionDate`` as a date ordinal."""
    customer: str
    posted: bool
    """Whether its journal is posted."""


class Discrepancy(StrEnum):
    """The class of a reconciliation item."""

    MATCHED = "matched"
    MISSING_IN_D365 = "missing_in_d365"
    MISSING_IN_PAYTRACE = "missing_in_paytrace"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    DUPLICATE_IN_D365 = "duplicate_in_d365"
    STATUS_MISMATCH = "status_mismatch"
    FEE_DIFFERENCE = "fee_difference"
    TIMING_DIFFERENCE = "timing_difference"
    POSTED_INVOICE_OPEN = "posted_invoice_open"
    """Posted in D365, but the invoice its lines mark is still open: not settled by them."""
    JOURNAL_UNPOSTED_OVERDUE = "journal_unposted_overdue"
    """A journal of the period's lines still unposted past ``[posting] unposted_alert_hours``."""


NO_LINES: tuple[int, ...] = ()


class Item(NamedTuple):
    """One conclusion: a gateway transaction and/or ledger lines, and what is wrong, if anything.

    ``txn`` and ``line`` are indexes into the inputs (-1 for none); ``more_lines`` lists further
    lines involved (duplicates, a reversal next to its payment).
    """

    kind: Discrepancy
    txn: int
    line: int
    exception: bool
    note: str = ""
    more_lines: tuple[int, ...] = NO_LINES
    by_reference: bool = True
    """False when the line was found by amount, date and customer (keyed by hand in D365)."""

    @property
    def lines(self) -> tuple[int, ...]:
        return ((self.line,) if self.line >= 0 else NO_LINES) + self.more_lines


@dataclass(frozen=True, slots=True)
class MatchRules:
    """Tolerances and expectations of one reconciliation.

    Attributes:
        amount_tolerance: how far a hand-keyed line's amount may be from the gateway's and
            still be found by amount, date and customer (the difference is then reported).
        date_window_days: how many days a hand-keyed line's date may be from the payment's.
        settlement_days: days from a payment's ledger date to its batch that are normal
            (a batch closing after midnight settles the previous day's payments).
        lag_days: a timing difference up to this many days is reported but is not an error.
        fees: expected gateway fees, to recognise a line posted net of its fee.
    """

    amount_tolerance: Decimal = Decimal(0)
    date_window_days: int = 3
    settlement_days: int = 1
    lag_days: int = 3
    fees: FeeSchedule = field(default_factory=FeeSchedule)


@dataclass(frozen=True, slots=True)
class Period:
    """The vendor-local days whose settled batches are reconciled (both inclusive)."""

    first_day: int
    last_day: int
