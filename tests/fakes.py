"""Fakes of the flows' ports: they record what happened and take fault knobs.

Every fake in ``tests/fakes*.py`` subclasses the port it stands for and is ``@final``, and mypy
checks these files: a fake that drifts from its port (a missing method, another signature)
fails ``make lint``. ``tests/contracts`` proves the ones the stores implement behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, final

from payledger.domain.card_data import find_card_data
from payledger.domain.clock import Clock, SystemClock
from payledger.domain.codec import payment_to_dict
from payledger.domain.dunning import (
    Attempt,
    AttemptOutcome,
    CollectionsStage,
    DunningCase,
    NoticeKind,
)
from payledger.domain.errors import (
    AmbiguousOutcome,
    CardDataRejected,
    ConfigError,
    RejectedError,
    TransientError,
)
from payledger.domain.events import PaymentObserved, Recorded
from payledger.domain.model import Payment
from payledger.domain.posting import (
    DayJournal,
    Journal,
    JournalClosed,
    JournalContents,
    JournalState,
    LedgerOperation,
    Posting,
    PostingState,
)
from payledger.domain.subscriptions import BILLED, Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import (
    UNFINISHED,
    BillingEntry,
    Claim,
    EntryStatus,
    NewEntry,
)
from payledger.domain.summary import DetailRow, PaymentDetail
from payledger.flows.ports import (
    ClaimedAttempt,
    ClaimedEntry,
    CollectionsErp,
    DunningNotices,
    DunningStore,
    FreeTextInvoice,
    FreeTextInvoicing,
    IssuedInvoice,
    JournalBook,
    JournalPoster,
    JournalReadback,
    Ledger,
    LedgerWriteResult,
    PaymentEventStore,
    PaymentSource,
    PostingStore,
    StaleCase,
    StaleSubscription,
    Subscribers,
    SubscriptionMirror,
    SubscriptionStore,
    SummaryStore,
)


@final
class FakePaymentSource(PaymentSource):
    name = "fakepay"

    def __init__(self, events: list[PaymentObserved] | None = None) -> None:
        self.events = list(events or [])
        self.asked: list[tuple[datetime, datetime]] = []

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        self.asked.append((since, until))
        return list(self.events)


@final
class FakePaymentEventStore(PaymentEventStore):
    def __init__(self, fail_next: list[Exception] | None = None) -> None:
        self.events: dict[tuple[str, str], PaymentObserved] = {}
        self.watermarks: dict[str, datetime] = {}
        self._fail_next = list(fail_next or [])

    async def watermark(self, name: str) -> datetime | None:
        return self.watermarks.get(name)

    async def record(
        self, source: str, events: Sequence[PaymentObserved], *, watermark: tuple[str, datetime]
    ) -> Recorded:
        if self._fail_next:
            raise self._fail_next.pop(0)
        card_fields = [f for e in events for f in find_card_data(payment_to_dict(e.payment))]
        if card_fields:  # the inbox refuses the whole batch
            raise CardDataRejected(card_fields)
        new = 0
        for event in events:
            new += (source, event.event_id) not in self.events
            self.events.setdefault((source, event.event_id), event)
        name, value = watermark
        if name not in self.watermarks or self.watermarks[name] < value:  # never moves back
            self.watermarks[name] = value
        return Recorded(new=new, duplicates=len(events) - new)


# --- posting flows: an in-memory posting store and ledger ------------------------------------


@final
class FakePostingStore(PostingStore, JournalBook):
    """``postings`` and ``journals`` in memory, with the SQL stores' rules: one posting per
    (transaction, operation) and per reference, outcomes change only postings on their way,
    one open journal per (company, day, currency, journal name) numbering its lines, and a
    closed journal taking no new ones. It is the ``JournalBook`` too (``stores.journals``)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.postings: dict[str, Posting] = {}
        """By reference, oldest first (the order a flush claims them in)."""
        self.events: dict[int, tuple[str, str | None]] = {}
        self.flushes_due: list[str] = []
        self.journals: list[FakeStoreJournal] = []

    def add(self, *postings: Posting) -> None:
        """Postings as a test needs them, in whatever state they carry."""
        for posting in postings:
            self.postings[posting.reference] = posting

    def state_of(self, reference: str) -> PostingState:
        return self.postings[reference].state

    async def find(self, gateway_txn_id: str, operation: str) -> Posting | None:
        for posting in self.postings.values():
            if (posting.gateway_txn_id, posting.operation) == (gateway_txn_id, operation):
                return posting
        return None

    async def record(self, inbox_id: int, owed: Sequence[Posting], *, company: str) -> int:
        new = 0
        for posting in owed:
            known = posting.reference in self.postings or await self.find(
                posting.gateway_txn_id, posting.operation
            )
            if not known:
                self.postings[posting.reference] = posting
                new += 1
        self.events[inbox_id] = ("processed", None)
        if new:
            self.flushes_due.append(company)
        return new

    async def mark_event(self, inbox_id: int, status: str, error: str | None = None) -> None:
        self.events[inbox_id] = (status, error)

    async def cancel(self, reference: str) -> bool:
        posting = self.postings.get(reference)
        if posting is None or posting.state is not PostingState.PLANNED:
            return False
        self.change(reference, state=PostingState.CANCELLED)
        return True

    async def claim(
        self, company: str, limit: int, *, retake_sending: bool = True
    ) -> list[Posting]:
        claimable = {PostingState.PLANNED, PostingState.UNKNOWN}
        if retake_sending:  # flushes never overlap: a new one retakes what a dead one left
            claimable.add(PostingState.SENDING)
        claimed = [
            posting
            for posting in self.postings.values()
            if posting.company == company and posting.state in claimable
        ][:limit]
        for posting in claimed:
            self.change(
                posting.reference, state=PostingState.SENDING, attempts=posting.attempts + 1
            )
        return [
            replace(p, state=PostingState.UNKNOWN) if p.state is PostingState.SENDING else p
            for p in claimed
        ]

    async def open_journal_numbers(self, company: str) -> set[str]:
        sent = (JournalState.POSTING, JournalState.POSTED)
        return {
            j.batch_number for j in self.journals if j.state not in sent and j.company == company
        }

    async def latest_journal(
        self, company: str, business_day: str, currency: str, journal_name: str
    ) -> DayJournal | None:
        key = (company, business_day, currency, journal_name)
        same = [j for j in self.journals if j.key == key]
        return same[-1].as_day_journal() if same else None

    async def add_journal(self, journal: DayJournal) -> None:
        if self._journal(journal) is not None:
            raise ValueError(f"{journal} exists")  # as the table's unique key would
        self.journals.append(
            FakeStoreJournal(
                *_key(journal), journal.generation, batch_number="", created_at=self.clock.now()
            )
        )

    async def set_batch_number(self, journal: DayJournal, batch_number: str) -> None:
        stored = self._journal(journal)
        assert stored is not None, f"{journal} was never added"
        stored.batch_number = batch_number

    def _journal(self, journal: DayJournal) -> FakeStoreJournal | None:
        for stored in self.journals:
            if (stored.key, stored.generation) == (_key(journal), journal.generation):
                return stored
        return None

    async def number_lines(
        self, company: str, batch_number: str, lines: Sequence[Posting]
    ) -> list[Posting]:
        [journal] = [
            j for j in self.journals if (j.company, j.batch_number) == (company, batch_number)
        ]
        if not journal.takes_lines:
            raise JournalClosed(f"journal {batch_number} takes no new lines")
        first, journal.next_line = journal.next_line, journal.next_line + len(lines)
        numbered: list[Posting] = []
        for number, line in enumerate(lines, start=first):
            stored = self.postings[line.reference]
            if (stored.journal_batch_number, stored.line_number) != (
                line.journal_batch_number,
                line.line_number,
            ):
                continue  # another flush numbered it meanwhile: not ours to send
            payload = {**line.payload, "JournalBatchNumber": batch_number, "LineNumber": number}
            numbered.append(
                self.change(
                    line.reference,
                    journal_batch_number=batch_number,
                    line_number=number,
                    payload=payload,
                )
            )
        return numbered

    async def close_journal(self, batch_number: str) -> None:
        for journal in self.journals:
            if journal.batch_number == batch_number:
                journal.closed, journal.state = True, JournalState.POSTED
                journal.closed_at = journal.closed_at or self.clock.now()
                journal.posted_at = journal.posted_at or self.clock.now()

    # --- JournalBook ---------------------------------------------------------------------

    def book_journal(self, batch_number: str) -> FakeStoreJournal:
        [journal] = [j for j in self.journals if j.batch_number == batch_number]
        return journal

    async def close_due(self, company: str, last_day: str, opened_before: datetime) -> list[str]:
        closed = []
        for journal in self.journals:
            due = journal.business_day <= last_day and journal.created_at <= opened_before
            if journal.company == company and not journal.closed and due:
                journal.closed, journal.closed_at = True, self.clock.now()
                closed.append(journal.batch_number)
        return sorted(number for number in closed if number)

    async def journal(self, batch_number: str) -> Journal | None:
        found = [j for j in self.journals if batch_number and j.batch_number == batch_number]
        return found[0].as_journal() if found else None

    async def unposted(self, company: str) -> list[Journal]:
        return [
            j.as_journal()
            for j in sorted(self.journals, key=lambda j: (j.business_day, j.generation))
            if j.company == company
            and j.closed
            and j.batch_number
            and j.state is not JournalState.POSTED
        ]

    async def contents(self, batch_number: str) -> JournalContents:
        owed_states = (PostingState.PLANNED, PostingState.SENDING, PostingState.UNKNOWN)
        lines = [
            p
            for p in self.postings.values()
            if p.journal_batch_number == batch_number and p.is_line
        ]
        references = {line.reference for line in lines}
        removals = [
            p for p in self.postings.values() if p.is_removal and p.target_reference in references
        ]
        removed = {r.target_reference for r in removals if r.state.written}
        written = [p for p in lines if p.state.written and p.reference not in removed]
        debits = (LedgerOperation.REFUND, LedgerOperation.REVERSAL)
        total = sum(
            (-p.amount.amount if p.operation in debits else p.amount.amount for p in written),
            Decimal(0),
        )
        owed = sum(p.state in owed_states for p in (*lines, *removals))
        return JournalContents(lines=len(written), total=total, owed=owed)

    async def approve(self, batch_number: str, actor: str) -> Journal | None:
        if await self.journal(batch_number) is None:
            return None
        journal = self.book_journal(batch_number)
        if journal.state is not JournalState.POSTED:
            journal.approved_by, journal.closed = actor, True
            journal.closed_at = journal.closed_at or self.clock.now()
            if journal.state is JournalState.UNPOSTED:
                journal.state = JournalState.APPROVED
        return journal.as_journal()

    async def start_posting(self, batch_number: str) -> bool:
        journal = self.book_journal(batch_number)
        ready = journal.closed and journal.state is not JournalState.POSTED
        if not ready or (await self.contents(batch_number)).owed:
            return False
        journal.state, journal.post_attempts = JournalState.POSTING, journal.post_attempts + 1
        return True

    async def posted(self, batch_number: str) -> None:
        journal = self.book_journal(batch_number)
        journal.state, journal.posted_at, journal.post_error = (
            JournalState.POSTED,
            self.clock.now(),
            "",
        )

    async def refused(self, batch_number: str, error: str) -> None:
        journal = self.book_journal(batch_number)
        journal.state, journal.post_error = JournalState.REFUSED, error

    async def note_error(self, batch_number: str, error: str) -> None:
        self.book_journal(batch_number).post_error = error

    async def settle(
        self,
        *,
        posted: Sequence[str] = (),
        replan: Sequence[str] = (),
        unknown: Sequence[str] = (),
        dead: Sequence[tuple[str, str]] = (),
    ) -> None:
        in_flight = (PostingState.SENDING, PostingState.UNKNOWN)
        for references, state in (
            (posted, PostingState.POSTED),
            (replan, PostingState.PLANNED),
            (unknown, PostingState.UNKNOWN),
        ):
            for reference in references:
                if self.postings[reference].state in in_flight:
                    self.change(reference, state=state)
        for reference, error in dead:
            self.change(reference, state=PostingState.DEAD, last_error=error)

    async def planned_count(self, company: str) -> int:
        owed = (PostingState.PLANNED, PostingState.UNKNOWN)
        return sum(p.company == company and p.state in owed for p in self.postings.values())

    def change(self, reference: str, **changes: Any) -> Posting:
        """Move a posting on (a test uses it to put one in the state it needs)."""
        self.postings[reference] = replace(self.postings[reference], **changes)
        return self.postings[reference]


@dataclass
class FakeStoreJournal:
    company: str
    business_day: str
    currency: str
    journal_name: str
    generation: int
    batch_number: str
    next_line: int = 1
    closed: bool = False
    created_at: datetime = field(default_factory=SystemClock().now)
    state: JournalState = JournalState.UNPOSTED
    closed_at: datetime | None = None
    approved_by: str = ""
    post_attempts: int = 0
    post_error: str = ""
    posted_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.company, self.business_day, self.currency, self.journal_name)

    @property
    def takes_lines(self) -> bool:
        return not self.closed and self.state is JournalState.UNPOSTED

    def as_day_journal(self) -> DayJournal:
        return DayJournal(*self.key, self.generation, self.batch_number, not self.takes_lines)

    def as_journal(self) -> Journal:
        return Journal(
            company=self.company,
            business_day=self.business_day,
            currency=self.currency,
            batch_number=self.batch_number,
            generation=self.generation,
            state=self.state,
            closed=self.closed,
            created_at=self.created_at,
            closed_at=self.closed_at,
            approved_by=self.approved_by,
            post_attempts=self.post_attempts,
            post_error=self.post_error,
            posted_at=self.posted_at,
        )


def _key(journal: DayJournal) -> tuple[str, str, str, str]:
    return (journal.company, journal.business_day, journal.currency, journal.journal_name)


@dataclass
@final
class FakeWriteResult(LedgerWriteResult):
    lines_error: str | None = None
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeJournal:
    """A payment journal header in the fake ERP and its lines by line number."""

    description: str
    lines: dict[int, dict[str, Any]] = field(default_factory=dict)
    posted: bool = False


@final
class FakeLedger(Ledger):
    """The ERP in memory. Lines are keyed like D365's (journal, line number): a changeset is
    atomic and refused whole for a bad line, a posted journal or a key that already exists.

    Fault knobs: ``refuse`` (reference → the ERP's error for that line, removal or order
    update), ``fail_next`` (raised by the next writes before anything is applied),
    ``commit_then_raise`` (the next N writes are applied, then the answer is lost),
    ``lookups_fail`` (raised by the next reads by reference), ``hold`` (request number →
    an event the request waits for before it is applied).
    """

    def __init__(
        self,
        *,
        customers: dict[str, str] | None = None,
        orders: dict[str, str] | None = None,
        rows: dict[tuple[str, str], dict[str, Any]] | None = None,
        refuse: dict[str, str] | None = None,
        fail_next: list[Exception] | None = None,
        lookups_fail: list[Exception] | None = None,
    ) -> None:
        self.customers = dict(customers or {})
        """Gateway customer id → ERP customer account (the extension field)."""
        self.orders = dict(orders or {})
        """Shop order reference → sales order number."""
        self.rows = dict(rows or {})
        """(need, key) → the ERP row an enrichment lookup finds."""
        self.refuse = dict(refuse or {})
        self.fail_next = list(fail_next or [])
        self.lookups_fail = list(lookups_fail or [])
        self.commit_then_raise = 0
        self.hold: dict[int, asyncio.Event] = {}
        self.journals: dict[str, FakeJournal] = {}
        self.order_updates: list[dict[str, Any]] = []
        self.removed: list[dict[str, Any]] = []
        self.requests: list[tuple[list[str], list[str]]] = []
        """References of every write request, in the order they were sent."""
        self.asked: list[tuple[str, str]] = []
        """Every read: (what, key)."""
        self.in_flight = 0
        self.most_in_flight = 0

    def post_journal(self, batch_number: str) -> None:
        """An accountant posts the journal in the ERP."""
        self.journals[batch_number].posted = True

    def lines(self, reference: str | None = None) -> list[dict[str, Any]]:
        """Lines in the ERP (with ``reference`` only, when given), duplicates included."""
        return [
            line
            for journal in self.journals.values()
            for line in journal.lines.values()
            if reference is None or line["PaymentReference"] == reference
        ]

    async def customer_account_for(self, gateway_customer_id: str) -> str | None:
        self.asked.append(("customer", gateway_customer_id))
        return self.customers.get(gateway_customer_id)

    async def order_number_for(self, reference: str) -> str | None:
        self.asked.append(("order", reference))
        return self.orders.get(reference)

    async def journal_is_posted(self, batch_number: str) -> bool:
        self.asked.append(("journal", batch_number))
        return self.journals[batch_number].posted

    async def enrichment(self, need: str, payment: Payment, account: str) -> dict[str, Any] | None:
        key = {
            "d365_customer": account,
            "d365_order": payment.order_ref,
            "d365_invoice": payment.invoice_ref,
        }.get(need, "")
        self.asked.append((need, key))
        return self.rows.get((need, key))

    async def open_payment_journal(self, description: str) -> str:
        for number, journal in self.journals.items():
            if journal.description == description:
                return number
        number = f"JRN-{len(self.journals) + 1:05d}"
        self.journals[number] = FakeJournal(description)
        return number

    async def write(self, lines: Sequence[Posting], others: Sequence[Posting]) -> FakeWriteResult:
        self.requests.append(([p.reference for p in lines], [p.reference for p in others]))
        number = len(self.requests)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # requests in flight together overlap here
            if number in self.hold:
                await self.hold[number].wait()
            if self.fail_next:
                raise self.fail_next.pop(0)
            result = self._apply(lines, others)
        finally:
            self.in_flight -= 1
        if self.commit_then_raise:
            self.commit_then_raise -= 1
            raise AmbiguousOutcome("the answer was lost after the ERP committed", system="fake")
        return result

    def _apply(self, lines: Sequence[Posting], others: Sequence[Posting]) -> FakeWriteResult:
        result = FakeWriteResult(lines_error=self._refusal(lines))
        if result.lines_error is None:
            for line in lines:
                self.journals[line.journal_batch_number].lines[line.payload["LineNumber"]] = dict(
                    line.payload
                )
        for other in others:
            if other.reference in self.refuse:
                result.failed[other.reference] = self.refuse[other.reference]
            elif other.is_removal:
                journal = self.journals[other.payload["JournalBatchNumber"]]
                if journal.posted:
                    result.failed[other.reference] = "400 the journal is posted"
                else:
                    journal.lines.pop(other.payload["LineNumber"], None)  # gone already: fine
                    self.removed.append(dict(other.payload))
            else:
                self.order_updates.append(dict(other.payload))
        return result

    def _refusal(self, lines: Sequence[Posting]) -> str | None:
        keys: set[tuple[str, int]] = set()
        for line in lines:
            journal = self.journals.get(line.journal_batch_number)
            key = (line.journal_batch_number, line.payload["LineNumber"])
            if line.reference in self.refuse:
                return self.refuse[line.reference]
            if journal is None:
                return f"404 journal {line.journal_batch_number} not found"
            if journal.posted:
                return f"400 journal {line.journal_batch_number} is posted"
            if key[1] in journal.lines or key in keys:
                return f"400 line {key} cannot be created: the record already exists"
            keys.add(key)
        return None

    async def existing_references(self, lines: Sequence[Posting]) -> set[str]:
        self.asked.extend(("reference", p.reference) for p in lines)
        if self.lookups_fail:
            raise self.lookups_fail.pop(0)
        return {
            p.reference
            for p in lines
            if p.journal_batch_number in self.journals
            and any(
                line["PaymentReference"] == p.reference
                for line in self.journals[p.journal_batch_number].lines.values()
            )
        }


@final
class FakeSummaryStore(SummaryStore):
    """Summary detail in memory, its lines owed in a :class:`FakePostingStore` (as the SQL store
    writes them into ``postings``): one member per transaction, one posting per reference."""

    def __init__(self, postings: FakePostingStore) -> None:
        self.postings = postings
        self.detail: dict[str, DetailRow] = {}
        """By transaction id: every kept row, its batch and line empty until it settles."""
        self.days: dict[str, str] = {}
        """Business day of each kept row, by transaction id."""
        self.voided_ids: set[str] = set()

    async def keep_payment(self, detail: PaymentDetail, *, company: str) -> None:
        row = DetailRow(
            "", detail.txn_id, detail.method, detail.operation.value,
            str(detail.signed.amount), detail.amount.currency, "",
        )  # fmt: skip
        self.detail.setdefault(detail.txn_id, row)
        self.days.setdefault(detail.txn_id, detail.business_day)
        if detail.voided:
            self.voided_ids.add(detail.txn_id)

    async def voided(self, txn_ids: Sequence[str], *, company: str) -> set[str]:
        return self.voided_ids.intersection(txn_ids)

    async def lines_per_payment(self, txn_ids: Sequence[str]) -> set[str]:
        not_a_line = (PostingState.CANCELLED, PostingState.DEAD)
        return {
            p.gateway_txn_id
            for p in self.postings.postings.values()
            if p.gateway_txn_id in txn_ids
            and p.operation in (LedgerOperation.PAYMENT, LedgerOperation.REFUND)
            and p.state not in not_a_line
        }

    async def record_summary(
        self,
        detail: Sequence[DetailRow],
        lines: Sequence[Posting],
        *,
        company: str,
        business_day: str,
    ) -> dict[str, str]:
        for row in detail:
            self.detail[row.txn_id] = row
            self.days.setdefault(row.txn_id, business_day)
        before = {
            line.reference: self.postings.postings[line.reference].state.value
            for line in lines
            if line.reference in self.postings.postings
        }
        new = [line for line in lines if line.reference not in before]
        self.postings.add(*new)
        if new:
            self.postings.flushes_due.append(company)
        return {line.reference: before.get(line.reference, "new") for line in lines}


# --- journal posting: the ERP's journal-posting service ----------------------------------


@dataclass
class FakeHeldJournal:
    """A payment journal as the fake ERP holds it: its lines' count and net total."""

    line_count: int = 0
    total: Decimal = Decimal(0)
    posted: bool = False


@final
class FakeJournalPoster(JournalPoster):
    """The ERP's journal-posting service in memory.

    Fault knobs: ``refuse`` (batch number → the ERP's words for refusing to post it),
    ``service_missing`` (every post raises ``ConfigError``), ``fail_next`` (raised by the next
    posts before anything is applied: ``TransientError``, ``AmbiguousOutcome``...),
    ``post_then_lose_answer`` (the next N posts are applied, then the answer is lost:
    ``AmbiguousOutcome`` with the journal posted anyway), ``reads_fail`` (read number, from
    1 → what that read raises).
    """

    def __init__(
        self,
        journals: dict[str, FakeHeldJournal] | None = None,
        *,
        refuse: dict[str, str] | None = None,
        service_missing: bool = False,
        fail_next: list[Exception] | None = None,
        post_then_lose_answer: int = 0,
        invoices: dict[str, Decimal] | None = None,
    ) -> None:
        self.journals = dict(journals or {})
        self.refuse = dict(refuse or {})
        self.service_missing = service_missing
        self.fail_next = list(fail_next or [])
        self.post_then_lose_answer = post_then_lose_answer
        self.reads_fail: dict[int, Exception] = {}
        self.reads = 0
        self.invoices = dict(invoices or {})
        self.posts: list[str] = []
        """Every post request, by batch number, in the order received."""

    def hold(self, batch_number: str, lines: int, total: str) -> None:
        """The ERP holds the journal with ``lines`` lines netting ``total``."""
        self.journals[batch_number] = FakeHeldJournal(lines, Decimal(total))

    async def post_journal(self, batch_number: str) -> None:
        self.posts.append(batch_number)
        if self.service_missing:
            raise ConfigError("404 /api/services/PayledgerServices: service not found")
        if self.fail_next:
            raise self.fail_next.pop(0)
        if batch_number in self.refuse:
            raise RejectedError(self.refuse[batch_number], system="fake")
        journal = self.journals[batch_number]
        if journal.posted:
            raise RejectedError(f"journal {batch_number} is already posted", system="fake")
        journal.posted = True
        if self.post_then_lose_answer:
            self.post_then_lose_answer -= 1
            raise AmbiguousOutcome("the answer was lost after the ERP posted", system="fake")

    async def read_journal(self, batch_number: str) -> JournalReadback:
        self.reads += 1
        if self.reads in self.reads_fail:
            raise self.reads_fail[self.reads]
        journal = self.journals.get(batch_number)
        if journal is None:
            return JournalReadback(batch_number, exists=False, is_posted=False)
        return JournalReadback(
            batch_number,
            exists=True,
            is_posted=journal.posted,
            line_count=journal.line_count,
            total=journal.total,
        )

    async def open_invoice_amounts(self, invoices: Sequence[str]) -> dict[str, Decimal]:
        return {number: self.invoices[number] for number in invoices if number in self.invoices}


# --- recurring billing: free-text invoices, status mirror, subscribers, subscriptions ---------


@final
class FakeFreeTextInvoicing(FreeTextInvoicing):
    """The ERP's free-text invoices in memory, one per key, numbered ``FTI-000001`` on posting.

    Fault knobs: ``refuse`` (every create and post raises ``RejectedError``), ``down`` (every
    call raises ``TransientError``), ``lose_create_answer`` / ``lose_post_answer`` (the next N
    creates / posts are applied, then the answer is lost: ``AmbiguousOutcome``).
    ``numbering(invoice)`` gives a posted invoice its number, once per invoice (e.g. opening
    it as a receivable in a fake or emulated ERP); by default ``FTI-000001``, ``FTI-000002``..."""

    def __init__(
        self,
        *,
        refuse: bool = False,
        down: bool = False,
        lose_create_answer: int = 0,
        lose_post_answer: int = 0,
        numbering: Callable[[FreeTextInvoice], Awaitable[str]] | None = None,
    ) -> None:
        self.refuse, self.down = refuse, down
        self.lose_create_answer, self.lose_post_answer = lose_create_answer, lose_post_answer
        self.numbering = numbering
        self.invoices: dict[str, FreeTextInvoice] = {}
        self.numbers: dict[str, str] = {}
        """Posted invoices' numbers by key."""
        self.creates: list[str] = []
        self.posts: list[str] = []
        """Every create / post request, by key, in the order received."""

    def _issued(self, key: str) -> IssuedInvoice:
        number = self.numbers.get(key, "")
        return IssuedInvoice(key, number, posted=bool(number))

    def _faults(self) -> None:
        if self.down:
            raise TransientError("the ERP is down", system="fake")
        if self.refuse:
            raise RejectedError("the ERP refused the free-text invoice", system="fake")

    async def find(self, key: str) -> IssuedInvoice | None:
        if self.down:
            raise TransientError("the ERP is down", system="fake")
        return self._issued(key) if key in self.invoices else None

    async def create(self, invoice: FreeTextInvoice) -> IssuedInvoice:
        self.creates.append(invoice.key)
        self._faults()
        self.invoices.setdefault(invoice.key, invoice)
        if self.lose_create_answer:
            self.lose_create_answer -= 1
            raise AmbiguousOutcome("the answer to the create was lost", system="fake")
        return self._issued(invoice.key)

    async def post(self, key: str) -> IssuedInvoice:
        self.posts.append(key)
        self._faults()
        if key not in self.numbers:
            invoice = self.invoices[key]
            self.numbers[key] = (
                await self.numbering(invoice)
                if self.numbering is not None
                else f"FTI-{len(self.numbers) + 1:06d}"
            )
        if self.lose_post_answer:
            self.lose_post_answer -= 1
            raise AmbiguousOutcome("the answer to the post was lost", system="fake")
        return self._issued(key)


@final
class FakeSubscriptionMirror(SubscriptionMirror):
    """Records each status written to a customer; ``down`` makes writing raise."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.written: list[tuple[str, str]] = []

    async def set_status(self, customer_account: str, status: str) -> None:
        if self.down:
            raise TransientError("the ERP is down", system="fake")
        self.written.append((customer_account, status))


@final
class FakeSubscribers(Subscribers):
    """ERP customers (account → the gateway customer id on it, "" for none) and the gateway
    customers that keep a card or bank account."""

    def __init__(self, customers: dict[str, str], vault: set[str]) -> None:
        self.customers, self.vault = dict(customers), set(vault)

    async def gateway_customer(self, customer_account: str) -> str | None:
        return self.customers.get(customer_account)

    async def has_payment_method(self, vault_customer_id: str) -> bool:
        return vault_customer_id in self.vault


@final
class FakeSubscriptionStore(SubscriptionStore):
    """Subscriptions and entries in memory with the SQL store's rules: one entry per
    (subscription, period, entry), versions checked and bumped, leases on unfinished entries,
    billed statuses only settled. ``audit`` records (actor, action, subscription id)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.subscriptions: dict[int, Subscription] = {}
        self.rows: dict[int, BillingEntry] = {}
        self.leases: dict[int, tuple[str, datetime]] = {}
        self.audit: list[tuple[str, str, int]] = []

    async def add(self, subscription: Subscription, *, actor: str) -> Subscription:
        stored = replace(
            subscription,
            id=len(self.subscriptions) + 1,
            version=1,
            created_at=self.clock.now(),
        )
        self.subscriptions[stored.id] = stored
        self.audit.append((actor, "subscription.created", stored.id))
        return stored

    async def get(self, subscription_id: int) -> Subscription | None:
        return self.subscriptions.get(subscription_id)

    def _store(self, subscription: Subscription) -> Subscription | None:
        current = self.subscriptions.get(subscription.id)
        if current is None or current.version != subscription.version:
            return None
        stored = replace(subscription, version=subscription.version + 1)
        self.subscriptions[stored.id] = stored
        return stored

    def _insert(
        self, subscription: Subscription, new: NewEntry, lease: tuple[str, datetime] | None
    ) -> BillingEntry | None:
        key = (subscription.id, new.period.index, new.entry)
        taken = {(e.subscription_id, e.period.index, e.entry) for e in self.rows.values()}
        if key in taken:
            return None
        entry = BillingEntry(
            id=len(self.rows) + 1,
            subscription_id=subscription.id,
            period=new.period,
            entry=new.entry,
            status=new.status,
            lines=new.lines,
            invoice_key=new.invoice_key(subscription.id),
            claimed_at=self.clock.now(),
        )
        self.rows[entry.id] = entry
        if lease is not None and new.status is EntryStatus.PLANNED:
            self.leases[entry.id] = lease
        return entry

    async def change(
        self,
        subscription: Subscription,
        *,
        actor: str,
        action: str,
        detail: dict[str, Any],
        entry: NewEntry | None = None,
        lease_owner: str = "",
    ) -> tuple[Subscription, BillingEntry | None]:
        stored = self._store(subscription)
        if stored is None:
            raise StaleSubscription(f"subscription {subscription.id} changed")
        lease = (lease_owner, self.clock.now() + timedelta(minutes=10)) if lease_owner else None
        added = self._insert(stored, entry, lease) if entry is not None else None
        self.audit.append((actor, action, stored.id))
        return stored, added

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        owner: str,
        lease: timedelta,
        plan: Callable[[Subscription], Claim],
    ) -> list[ClaimedEntry]:
        held = (owner, now + lease)
        claimed: list[ClaimedEntry] = []
        for entry in self.rows.values():
            free = entry.id not in self.leases or self.leases[entry.id][1] < now
            if entry.status in UNFINISHED and free and len(claimed) < limit:
                self.leases[entry.id] = held
                claimed.append(ClaimedEntry(entry, self.subscriptions[entry.subscription_id]))
        due = [
            s
            for s in self.subscriptions.values()
            if s.status in BILLED and (s.next_due() or datetime.max.replace(tzinfo=UTC)) <= now
        ]
        for subscription in sorted(due, key=lambda s: (s.next_due(), s.id))[: limit - len(claimed)]:
            claim = plan(subscription)
            stored = self._store(claim.subscription)
            if stored is None:
                continue
            for new in claim.entries:
                added = self._insert(stored, new, held)
                if added is not None and added.status in UNFINISHED:
                    claimed.append(ClaimedEntry(added, stored))
        return claimed

    async def start_charge(self, entry_id: int) -> bool:
        entry = self.rows[entry_id]
        self.rows[entry_id] = replace(entry, charge_started=True)
        return entry.charge_started

    async def advance(
        self,
        entry_id: int,
        status: EntryStatus,
        *,
        invoice_number: str = "",
        gateway_txn_id: str = "",
        error: str = "",
    ) -> None:
        entry = self.rows[entry_id]
        self.rows[entry_id] = replace(
            entry,
            status=status,
            invoice_number=invoice_number or entry.invoice_number,
            gateway_txn_id=gateway_txn_id or entry.gateway_txn_id,
            error=error,
        )
        if status not in UNFINISHED:
            self.leases.pop(entry_id, None)

    async def release(self, entry_id: int, error: str) -> None:
        entry = self.rows[entry_id]
        self.rows[entry_id] = replace(entry, attempts=entry.attempts + 1, error=error)
        self.leases.pop(entry_id, None)

    async def renew(self, owner: str, until: datetime) -> int:
        held = [
            entry_id
            for entry_id, (holder, _) in self.leases.items()
            if holder == owner and self.rows[entry_id].status in UNFINISHED
        ]
        for entry_id in held:
            self.leases[entry_id] = (owner, until)
        return len(held)

    async def settle_status(
        self, subscription_id: int, status: SubscriptionStatus, *, reason: str
    ) -> Subscription | None:
        current = self.subscriptions[subscription_id]
        if current.status not in BILLED or current.status is status:
            return None
        settled = replace(current, status=status, version=current.version + 1)
        self.subscriptions[subscription_id] = settled
        self.audit.append(("payledger:billing", f"subscription.{status.value}", subscription_id))
        return settled

    async def entries(self, subscription_id: int) -> list[BillingEntry]:
        mine = [e for e in self.rows.values() if e.subscription_id == subscription_id]
        return sorted(mine, key=lambda e: (e.period.index, e.entry))


@final
class FakeDunningStore(DunningStore):
    """Cases and attempts in memory with the SQL store's rules: one case per source key, one
    attempt per (case, number), versions checked and bumped, leases on started attempts.
    ``audit`` records (actor, action, case id)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.cases: dict[int, DunningCase] = {}
        self.started: dict[int, tuple[int, int, datetime]] = {}
        """Attempt id → (case id, number, started at) of attempts not finished."""
        self.charge_started: set[int] = set()
        self.leases: dict[int, datetime] = {}
        self.finished_at: dict[tuple[int, int], datetime] = {}
        self.audit: list[tuple[str, str, int]] = []
        self._attempt_ids = 0

    async def open(self, case: DunningCase, *, actor: str) -> tuple[DunningCase, bool]:
        for existing in self.cases.values():
            if existing.source_key == case.source_key:
                return existing, False
        stored = replace(case, id=len(self.cases) + 1, version=1)
        self.cases[stored.id] = stored
        for attempt in stored.attempts:
            self.finished_at[(stored.id, attempt.no)] = self.clock.now()
        self.audit.append((actor, "dunning.opened", stored.id))
        return stored, True

    async def get(self, case_id: int) -> DunningCase | None:
        return self.cases.get(case_id)

    async def active_for_invoice(self, invoice_number: str) -> DunningCase | None:
        active = ("open", "retry_scheduled", "exhausted")
        found = [
            c
            for c in self.cases.values()
            if c.invoice_number == invoice_number and c.status.value in active
        ]
        return found[-1] if found else None

    async def change(
        self, case: DunningCase, *, actor: str, action: str, detail: dict[str, Any]
    ) -> DunningCase:
        current = self.cases.get(case.id)
        if current is None or current.version != case.version:
            raise StaleCase(f"dunning case {case.id} changed")
        finished = {a.no for a in case.attempts if a.outcome is not AttemptOutcome.STARTED}
        for attempt_id, (case_id, no, _at) in list(self.started.items()):
            if case_id == case.id and no in finished:
                del self.started[attempt_id]
                self.leases.pop(attempt_id, None)
                self.finished_at[(case_id, no)] = self.clock.now()
        stored = replace(case, version=case.version + 1)
        self.cases[case.id] = stored
        self.audit.append((actor, action, case.id))
        return stored

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        owner: str,
        lease: timedelta,
        case_id: int | None = None,
    ) -> list[ClaimedAttempt]:
        claimed: list[ClaimedAttempt] = []
        for attempt_id, (cid, no, at) in self.started.items():
            lapsed = attempt_id not in self.leases or self.leases[attempt_id] < now
            if lapsed and case_id in (None, cid) and len(claimed) < limit:
                self.leases[attempt_id] = now + lease
                claimed.append(ClaimedAttempt(self.cases[cid], attempt_id, no, at, True))
        running = {cid for cid, _no, _at in self.started.values()}
        due = [
            c
            for c in self.cases.values()
            if c.status.value == "retry_scheduled"
            and c.next_attempt_at is not None
            and c.next_attempt_at <= now
            and c.id not in running
            and case_id in (None, c.id)
        ]
        for case in sorted(due, key=lambda c: (c.next_attempt_at, c.id))[: limit - len(claimed)]:
            self._attempt_ids += 1
            no = max(a.no for a in case.attempts) + 1
            started = Attempt(no, now, AttemptOutcome.STARTED)
            case = replace(case, attempts=(*case.attempts, started))
            self.cases[case.id] = case
            self.started[self._attempt_ids] = (case.id, no, now)
            self.leases[self._attempt_ids] = now + lease
            claimed.append(ClaimedAttempt(case, self._attempt_ids, no, now, False))
        return claimed

    async def start_charge(self, attempt_id: int) -> bool:
        before = attempt_id in self.charge_started
        self.charge_started.add(attempt_id)
        return before

    async def release(self, attempt_id: int, error: str) -> None:
        self.leases.pop(attempt_id, None)

    async def declines_since(self, since: datetime) -> int:
        return sum(
            1
            for case in self.cases.values()
            for a in case.attempts
            if a.outcome in (AttemptOutcome.DECLINED, AttemptOutcome.FAILED)
            and self.finished_at.get((case.id, a.no), since) >= since
        )


@final
class FakeDunningNotices(DunningNotices):
    """Records each notice as (case id, notice); ``down`` makes queueing raise."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.sent: list[tuple[int, NoticeKind]] = []

    async def notify(self, case: DunningCase, notice: NoticeKind) -> None:
        if self.down:
            raise TransientError("the outbox is down", system="fake")
        self.sent.append((case.id, notice))


@final
class FakeCollectionsErp(CollectionsErp):
    """Records each step as (case id, stage value or ``"undo"``)."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, str]] = []

    async def advance(self, case: DunningCase, stage: CollectionsStage) -> None:
        self.steps.append((case.id, stage.value))

    async def undo(self, case: DunningCase) -> None:
        self.steps.append((case.id, "undo"))
