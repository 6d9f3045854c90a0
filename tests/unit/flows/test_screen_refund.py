"""Refunds asked for through the payments API, screened before the gateway is called (with
fakes): a ``review`` score holds the refund unmade in ``enforce`` mode; the approval's
release refunds it exactly once (approved twice, run twice, or cut off after the gateway
acted); a rejection never refunds; ``shadow`` and ``allow`` refund at once; a broken scorer
never stops a refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from payledger.domain.charges import ChargeRecord, PaymentState
from payledger.domain.clock import ManualClock
from payledger.domain.errors import AmbiguousOutcome
from payledger.domain.model import PaymentKind
from payledger.domain.money import Money
from payledger.domain.risk import Action, Assessment, RiskSubject, SubjectKind
from payledger.flows.charge_payment import ChargeContext, refund_payment
from payledger.flows.ports.risk import HeldKind, ReleaseJob, ReviewState
from payledger.flows.release_refund import HeldRefund, release_refund
from payledger.flows.review_risk import decide_review
from payledger.flows.screen_charge import Held, ItemScreen
from payledger.flows.screen_refund import RefundStatus, RefundWaiting, refund_key
from payledger.flows.screening import MODEL_ALERT, Screen, ScreenPolicy
from tests.fakes_charging import (
    WHEN,
    FakeCardGateway,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)
from tests.fakes_orders import FakeAlerts
from tests.fakes_risk import FakeRiskScorer, FakeRiskStore

SALE = "5001"
SOLD = WHEN - timedelta(days=10)
KEY = refund_key(SALE, "shop", "key-1")


def risky_above_50(subject: RiskSubject) -> float:
    """Refunds above 50.00 go to review; everything else passes."""
    return 0.95 if subject.amount > Money.of("50.00") else 0.1


class Refunding:
    """A settled 100.00 sale of vault customer ``vault-9``, refunded behind a screen."""

    def __init__(self, *, enforce: bool = True, **scorer: object) -> None:
        self.gateway, self.records = FakeCardGateway(), FakeChargeRecords()
        zero = Money.zero()
        sale = ChargeRecord(
            SALE, "shop", PaymentKind.SALE, PaymentState.APPROVED, Money.of("100.00"), zero, zero,
            created_at=SOLD, invoice_number="CIV-9", customer_account="US-009",
        )  # fmt: skip
        self.records.records[SALE] = sale
        self.risk, self.alerts = FakeRiskStore(), FakeAlerts()
        screened_sale = RiskSubject(SALE, SubjectKind.SALE, sale.amount, SOLD, "vault-9", "vault-9")
        self.risk.assessed[(SALE, SubjectKind.SALE)] = (screened_sale, Assessment(0, Action.ALLOW))
        options = {"score_of": risky_above_50, **scorer}
        self.scorer = FakeRiskScorer(**options)  # type: ignore[arg-type]
        screen = Screen(
            ScreenPolicy(enforce=enforce), self.scorer, self.risk, self.alerts, ManualClock(WHEN)
        )
        self.release = ReleaseJob("payments.refund_held", {"ref": KEY})
        erp = FakeReceivables()
        self.ctx = ChargeContext(
            gateway=self.gateway,
            receivables=erp,
            records=self.records,
            now=WHEN,
            requests=charge_requests(erp),
            items=ItemScreen(screen, self.risk, self.release),
        )

    async def refund(self, amount: str | None = "80.00", key: str = KEY) -> ChargeRecord:
        value = Decimal(amount) if amount is not None else None
        made, _original = await refund_payment(SALE, value, "shop", self.ctx, review_key=key)
        return made

    async def decide(self, *, approve: bool) -> None:
        (item,) = await self.risk.items(None)
        await decide_review(
            item.id,
            approve=approve,
            actor="cli:ops",
            comment="",
            queue=self.risk,
            alerts=self.alerts,
            clock=ManualClock(WHEN),
        )

    async def run_release(self) -> RefundStatus:
        return await release_refund(HeldRefund(SALE, "shop", KEY), self.ctx)

    def refunds(self) -> list[Money]:
        return [amount for call, amount in self.gateway.calls if call == "refund"]


async def test_a_risky_refund_is_held_before_the_gateway_is_called():
    refunding = Refunding()
    with pytest.raises(Held) as held:
        await refunding.refund()

    assert refunding.gateway.calls == []
    assert refunding.records.records[SALE].refunded == Money.zero()
    item = held.value.item
    assert (item.kind, item.ref, item.state, item.amount) == (
        HeldKind.REFUND,
        KEY,
        ReviewState.PENDING,
        Money.of("80.00"),
    )
    (subject, _history) = refunding.scorer.seen[0]
    assert (subject.kind, subject.original_transaction_id, subject.customer_id) == (
        SubjectKind.REFUND,
        SALE,
        "vault-9",
    )
    assert (subject.card_token, subject.original_card_token) == ("vault-9", "vault-9")
    assert (subject.original_amount, subject.original_occurred_at) == (Money.of("100.00"), SOLD)
    assert refunding.alerts.keys() == [f"risk-review:refund:{KEY}"]
    assert await refunding.run_release() is RefundStatus.HELD  # nothing runs before a decision
    assert refunding.gateway.calls == []


async def test_no_other_refund_of_the_payment_starts_while_one_waits_for_review():
    refunding = Refunding()
    with pytest.raises(Held):
        await refunding.refund()
    with pytest.raises(RefundWaiting, match="waits for risk review"):
        await refunding.refund("10.00", key=refund_key(SALE, "shop", "key-2"))
    assert refunding.gateway.calls == []


async def test_approved_twice_and_released_twice_the_refund_is_made_once():
    refunding = Refunding()
    with pytest.raises(Held):
        await refunding.refund()
    await refunding.decide(approve=True)
    await refunding.decide(approve=True)  # decided already: nothing more released
    assert refunding.risk.jobs == [refunding.release]

    assert await refunding.run_release() is RefundStatus.REFUNDED
    assert await refunding.run_release() is RefundStatus.REFUNDED  # a redelivered job
    assert refunding.refunds() == [Money.of("80.00")]
    assert refunding.records.records[SALE].refunded == Money.of("80.00")
    (item,) = await refunding.risk.items(ReviewState.APPROVED)
    (refund,) = refunding.gateway.refunds
    assert item.transaction_id == refund.gateway_txn_id  # the review covers its posting
    stored = await refunding.risk.assessment(refund.gateway_txn_id, SubjectKind.REFUND)
    assert stored is not None and stored.score == 0.95
    assert len(refunding.scorer.seen) == 1  # scored once, before it was held


async def test_a_release_cut_off_after_the_gateway_refunded_finds_that_refund():
    refunding = Refunding()
    with pytest.raises(Held):
        await refunding.refund()
    await refunding.decide(approve=True)
    refunding.gateway.lose_next_refund = True
    with pytest.raises(AmbiguousOutcome):
        await refunding.run_release()  # refunded at the gateway, never told

    assert await refunding.run_release() is RefundStatus.REFUNDED  # the job's retry
    assert await refunding.run_release() is RefundStatus.REFUNDED
    assert refunding.refunds() == [Money.of("80.00")]
    (refund,) = refunding.gateway.refunds
    assert refunding.records.records[refund.gateway_txn_id].original_txn_id == SALE
    assert refunding.records.records[SALE].refunded == Money.of("80.00")
    (item,) = await refunding.risk.items(ReviewState.APPROVED)
    assert item.transaction_id == refund.gateway_txn_id


async def test_a_rejected_refund_is_never_made():
    refunding = Refunding()
    with pytest.raises(Held):
        await refunding.refund()
    await refunding.decide(approve=False)
    assert refunding.risk.jobs == [refunding.release]

    assert await refunding.run_release() is RefundStatus.REJECTED
    assert refunding.gateway.calls == []
    assert refunding.records.records[SALE].refunded == Money.zero()
    assert refunding.alerts.keys().count(f"risk-rejected:refund:{KEY}") == 1
    # a rejected refund does not stand in the way of a new request
    assert (await refunding.refund("20.00", key=refund_key(SALE, "shop", "key-3"))).amount == (
        Money.of("20.00")
    )


async def test_a_refund_below_review_is_made_at_once_and_its_assessment_kept():
    refunding = Refunding()
    made = await refunding.refund("30.00")
    assert refunding.refunds() == [Money.of("30.00")]
    stored = await refunding.risk.assessment(made.gateway_txn_id, SubjectKind.REFUND)
    assert stored is not None and stored.action is Action.ALLOW
    assert await refunding.risk.items(None) == []


async def test_shadow_mode_scores_and_refunds():
    refunding = Refunding(enforce=False)
    made = await refunding.refund()
    assert refunding.refunds() == [Money.of("80.00")]
    stored = await refunding.risk.assessment(made.gateway_txn_id, SubjectKind.REFUND)
    assert stored is not None and stored.action is Action.REVIEW
    assert await refunding.risk.items(None) == [] and refunding.alerts.keys() == []


async def test_a_broken_scorer_never_stops_a_refund():
    refunding = Refunding(fail=RuntimeError("model exploded"))
    await refunding.refund()
    assert refunding.refunds() == [Money.of("80.00")]
    assert refunding.alerts.keys() == [MODEL_ALERT]


async def test_without_a_review_key_the_refund_is_not_screened():
    refunding = Refunding()
    await refund_payment(SALE, Decimal("80.00"), "shop", refunding.ctx)
    assert refunding.refunds() == [Money.of("80.00")] and refunding.scorer.seen == []


def test_each_request_has_its_own_review_key_and_a_retry_the_same():
    assert refund_key(SALE, "shop", "key-1") == KEY
    assert refund_key(SALE, "shop", "key-2") != KEY
    assert refund_key(SALE, "other-shop", "key-1") != KEY
    assert KEY.startswith(f"{SALE}:") and len(KEY) <= 64
