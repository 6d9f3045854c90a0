"""Property tests of the sandbox's card transaction state machine (fact sheet §9).

Hypothesis drives random sequences of sales, authorizations, captures, voids, refunds,
adjustments and settlements; after every step the invariants below must hold, and every
refused step must have left the state untouched with the documented error code.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from payledger.sandbox.paytrace import PayTraceSandboxSettings, ledger, settlement
from payledger.sandbox.paytrace.cards import Card
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import TxnStatus, TxnType
from payledger.sandbox.paytrace.state import SandboxState

CARD = Card("4012000098765439", 12, 2030)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=2) | st.just(
    Decimal("1.12")
)
ALLOWED_MOVES = {
    TxnStatus.AUTHORIZED: {TxnStatus.AUTHORIZED, TxnStatus.PENDING, TxnStatus.VOIDED},
    TxnStatus.PENDING: {TxnStatus.PENDING, TxnStatus.SETTLED, TxnStatus.VOIDED},
    TxnStatus.SETTLED: {TxnStatus.SETTLED},
    TxnStatus.VOIDED: {TxnStatus.VOIDED},
    TxnStatus.DECLINED: {TxnStatus.DECLINED},
}


def portion(amount: Decimal, share: Decimal | None) -> Decimal | None:
    """``share`` of ``amount`` in cents; ``None`` (meaning "all") when nothing is left."""
    if share is None:
        return None
    part = (amount * share).quantize(Decimal("0.01"))
    return part if part > 0 else None


class TransactionLifecycle(RuleBasedStateMachine):
    transactions = Bundle("transactions")

    def __init__(self) -> None:
        super().__init__()
        self.state = SandboxState(PayTraceSandboxSettings())
        self.now = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
        self.seen: dict[int, TxnStatus] = {}

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def refused(self, step, code: int) -> None:
        """``step`` must fail with ``code`` and change nothing."""
        before = copy.deepcopy((self.state.transactions, self.state.batches))
        try:
            step()
        except VendorErrors as exc:
            assert list(exc.errors) == [code]
        else:
            raise AssertionError(f"expected error {code}")
        assert (self.state.transactions, self.state.batches) == before

    @rule(
        target=transactions,
        amount=amounts,
        kind=st.sampled_from([TxnType.SALE, TxnType.AUTHORIZATION]),
    )
    def charge(self, amount: Decimal, kind: TxnType) -> int:
        txn = ledger.charge(self.state, self.tick(), ledger.Charge(kind, amount, CARD))
        declined = amount in (Decimal("1.12"), Decimal("0.29"))  # the sandbox's decline triggers
        assert (txn.status is TxnStatus.DECLINED) == declined
        return txn.transaction_id

    @rule(
        txn_id=transactions,
        part=st.sampled_from([None, Decimal("0.5"), Decimal("1"), Decimal("1.01")]),
    )
    def capture(self, txn_id: int, part: Decimal | None) -> None:
        txn = self.state.transactions[txn_id]
        amount = portion(txn.amount, part)
        if txn.type is not TxnType.AUTHORIZATION or txn.status is not TxnStatus.AUTHORIZED:
            self.refused(lambda: ledger.capture(self.state, self.now, txn_id, amount), 816)
        elif amount is not None and amount > txn.amount:
            self.refused(lambda: ledger.capture(self.state, self.now, txn_id, amount), 9102)
        else:
            expected = amount or txn.amount
            ledger.capture(self.state, self.tick(), txn_id, amount)
            assert (txn.status, txn.amount) == (TxnStatus.PENDING, expected)

    @rule(txn_id=transactions)
    def void(self, txn_id: int) -> None:
        txn = self.state.transactions[txn_id]
        if txn.status in (TxnStatus.AUTHORIZED, TxnStatus.PENDING):
            ledger.void(self.state, self.tick(), txn_id)
            assert txn.status is TxnStatus.VOIDED
        else:
            self.refused(lambda: ledger.void(self.state, self.now, txn_id), 818)

    @rule(
        target=transactions,
        txn_id=transactions,
        share=st.sampled_from([None, Decimal("0.3"), Decimal("2")]),
    )
    def refund(self, txn_id: int, share: Decimal | None) -> int:
        txn = self.state.transactions[txn_id]
        remaining = txn.amount - txn.refunded
        amount = portion(txn.amount, share)
        if txn.type is TxnType.REFUND or txn.status is not TxnStatus.SETTLED:
            self.refused(lambda: ledger.refund(self.state, self.now, txn_id, amount), 817)
            return txn_id
        if remaining <= 0 or (amount or remaining) > remaining:
            self.refused(lambda: ledger.refund(self.state, self.now, txn_id, amount), 9102)
            return txn_id
        refund = ledger.refund(self.state, self.tick(), txn_id, amount)
        assert refund.type is TxnType.REFUND and refund.original_transaction_id == txn_id
        assert refund.amount == (amount or remaining)
        return refund.transaction_id

    @rule(
        txn_id=transactions,
        factor=st.sampled_from([Decimal("0.5"), Decimal("1.3"), Decimal("1.31")]),
    )
    def adjust(self, txn_id: int, factor: Decimal) -> None:
        txn = self.state.transactions[txn_id]
        amount = portion(txn.original_amount, factor)
        if amount is None:
            return
        adjustable = (txn.type, txn.status) in {
            (TxnType.AUTHORIZATION, TxnStatus.AUTHORIZED),
            (TxnType.REFUND, TxnStatus.PENDING),
        }
        original = self.state.transactions.get(txn.original_transaction_id or -1)
        if not adjustable or amount > txn.original_amount * Decimal("1.3"):
            self.refused(lambda: ledger.adjust(self.state, self.now, txn_id, amount), 9103)
        elif original and original.refunded - txn.amount + amount > original.amount:
            self.refused(lambda: ledger.adjust(self.state, self.now, txn_id, amount), 9102)
        else:
            ledger.adjust(self.state, self.tick(), txn_id, amount)
            assert txn.amount == amount

    @rule()
    def settle(self) -> None:
        pending = [t.transaction_id for t in settlement.open_batch(self.state)]
        batch = settlement.settle(self.state, self.tick())
        assert (batch.transaction_ids if batch else []) == pending

    @invariant()
    def statuses_only_move_forward(self) -> None:
        for txn_id, txn in self.state.transactions.items():
            previous = self.seen.get(txn_id, txn.status)
            assert txn.status in ALLOWED_MOVES[previous], (previous, txn.status)
            self.seen[txn_id] = txn.status

    @invariant()
    def refunds_never_exceed_the_original(self) -> None:
        for txn in self.state.transactions.values():
            live = [
                r.amount
                for r in self.state.transactions.values()
                if r.original_transaction_id == txn.transaction_id
                and r.status is not TxnStatus.VOIDED
            ]
            assert txn.refunded == sum(live, Decimal("0.00")) <= txn.amount

    @invariant()
    def settled_means_in_exactly_one_batch(self) -> None:
        members = [i for b in self.state.batches.values() for i in b.transaction_ids]
        assert len(members) == len(set(members))
        for txn in self.state.transactions.values():
            settled = txn.status is TxnStatus.SETTLED
            assert settled == (txn.transaction_id in members) == (txn.batch_number is not None)

    @invariant()
    def batch_totals_add_up(self) -> None:
        for batch in self.state.batches.values():
            txns = [self.state.transactions[i] for i in batch.transaction_ids]
            sales = sum((t.amount for t in txns if t.type is not TxnType.REFUND), Decimal(0))
            refunds = sum((t.amount for t in txns if t.type is TxnType.REFUND), Decimal(0))
            assert (batch.sales_amount, batch.refund_amount) == (sales, refunds)
            assert batch.net_amount == sales - refunds
            assert batch.sales_count + batch.refund_count == len(txns)


TransactionLifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_transaction_lifecycle = TransactionLifecycle.TestCase
