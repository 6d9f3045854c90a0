"""Settlement reconciliation: the gateway's settlements, the ERP's lines and general journals,
and the runs payledger keeps (``stores.reconciliation``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from payledger.domain.events import PaymentObserved
from payledger.domain.model import SettlementBatch
from payledger.domain.reconcile import GatewayTxn, InvoiceBalance, LedgerEntry
from payledger.domain.reconcile.runs import DepositOrder, HealRequest, OutstandingHeal, RunRecord


class Progress(Protocol):
    """Told how far a long fetch is: ``task`` has ``done`` of ``total`` (None: unknown)."""

    def __call__(self, task: str, done: int, total: int | None) -> None: ...


def no_progress(task: str, done: int, total: int | None) -> None:
    """A :class:`Progress` that shows nothing (scheduled runs)."""


@dataclass(frozen=True)
class Settlement:
    """What the gateway settled in a period, and what else it knows around it."""

    batches: list[SettlementBatch]
    txns: list[GatewayTxn]
    """Settled in the period (``in_period``), plus pending, voided and otherwise settled
    transactions created in the window, which explain ledger lines."""


class SettlementSource(Protocol):
    """The gateway's settlement reports (PayTrace batch exports)."""

    async def settlement(
        self, first: date, last: date, window: tuple[date, date], progress: Progress
    ) -> Settlement:
        """Batches closed on the vendor-local days ``first``..``last`` with their transactions,
        and every approved transaction created in ``window``."""
        ...

    async def transactions(
        self, txn_ids: Sequence[str], first: date, last: date
    ) -> list[GatewayTxn]:
        """The transactions among ``txn_ids`` the gateway knows (others are left out)."""
        ...

    async def observe(self, txn_id: str) -> PaymentObserved:
        """One transaction as the gateway reports it now, keyed like the poller's events."""
        ...


class PostingFollowUp(Protocol):
    """What the ERP says about the invoices payment lines mark (the posting classes)."""

    async def marked_invoices(self, lines: Sequence[LedgerEntry]) -> Mapping[str, str]:
        """The invoice each line marks, by ``line_id`` (lines marking none left out)."""
        ...

    async def invoice_balances(self, invoices: Sequence[str]) -> Mapping[str, InvoiceBalance]:
        """Open and settled amount of each invoice the ERP knows (others left out)."""
        ...


class LedgerLines(Protocol):
    """The ERP's customer payment journal lines (D365 F&O)."""

    async def lines_between(self, first: date, last: date, progress: Progress) -> list[LedgerEntry]:
        """payledger's lines and hand-keyed gateway lines dated ``first``..``last``."""
        ...

    async def lines_with_references(self, references: Sequence[str]) -> list[LedgerEntry]:
        """Lines carrying any of ``references``, whatever their date."""
        ...


class DepositLedger(Protocol):
    """General journals in the ERP, found again by their integration key."""

    async def journal_with_key(self, integration_key: str) -> str | None:
        """The batch number of the general journal carrying ``integration_key``, if any."""
        ...

    async def open_journal(self, header: Mapping[str, Any]) -> str:
        """Create the journal header (once: looked up by its key after a lost answer)."""
        ...

    async def line_references(self, journal: str) -> set[str]:
        """``PaymentReference`` of every line already in ``journal``."""
        ...

    async def add_lines(self, journal: str, lines: Sequence[Mapping[str, Any]]) -> None:
        """Add ``lines`` in one atomic request; after a lost answer only missing ones again."""
        ...


class ReconStore(Protocol):
    """Reconciliation runs and their items (``recon_runs`` / ``recon_items``), auto-heal and
    deposit jobs."""

    async def start_run(self, company: str, first: date, last: date, trigger: str) -> int: ...

    async def finish_run(self, run_id: int, record: RunRecord) -> None: ...

    async def fail_run(self, run_id: int, error: str) -> None: ...

    async def heal(self, requests: Sequence[HealRequest]) -> dict[str, str]:
        """Store each payment through the inbox (once, keyed like the poller's event) unless
        its posting already exists; returns the heal state by transaction id."""
        ...

    async def outstanding_heals(self, company: str) -> list[OutstandingHeal]: ...

    async def record_heals(self, verified: Sequence[int], states: Mapping[int, str]) -> None:
        """Mark items verified (their line is in the ledger now) or in another heal state."""
        ...

    async def posting_states(self, txn_ids: Sequence[str]) -> dict[str, str]:
        """The local posting state by transaction id, for heals not verified yet."""
        ...

    async def enqueue_deposits(self, orders: Sequence[DepositOrder]) -> dict[str, str]:
        """One deposit job per batch, ever; returns by batch number where its deposit stands:
        ``enqueued`` (now), ``pending``, ``posted`` or ``failed`` (its job is dead)."""
        ...
