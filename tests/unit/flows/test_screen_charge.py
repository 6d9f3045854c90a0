"""payledger's own charges screened before the gateway is called (with fakes): a ``review``
score holds the charge unmade in ``enforce`` mode, with the job that makes it; the approval's
run charges it once, a rejection's run never; ``shadow`` scores and charges; a broken scorer
never stops a charge; the made charge's assessment is stored under its transaction and the
approved review covers it."""

from __future__ import annotations

import pytest

from payledger.domain.charges import CardOnFile
from payledger.domain.clock import ManualClock
from payledger.domain.money import Money
from payledger.domain.risk import Action, SubjectKind
from payledger.flows.auto_pay import AutoPayOutcome, InvoicePosted, pay_posted_invoice
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.ports.risk import HeldKind, ReleaseJob, ReviewState
from payledger.flows.review_risk import decide_review
from payledger.flows.screen_charge import ItemScreen
from payledger.flows.screening import MODEL_ALERT, Screen, ScreenPolicy
from tests.fakes_charging import (
    WHEN,
    FakeCardGateway,
    FakeChargeAttempts,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)
from tests.fakes_orders import FakeAlerts
from tests.fakes_risk import FakeRiskScorer, FakeRiskStore

POSTED = InvoicePosted("CIV-1", "US-001", "usmf", WHEN)
RELEASE = ReleaseJob("d365.business_event", {"business_event_id": 7})


class Charging:
    """Auto-pay of CIV-1 (900.00) behind a screen whose scorer gives ``score``."""

    def __init__(self, score: float = 0.95, *, enforce: bool = True, **scorer: object) -> None:
        self.gateway, self.records = FakeCardGateway(), FakeChargeRecords()
        erp = FakeReceivables()
        erp.invoice_of("CIV-1", "900.00")
        erp.cards["US-001"] = CardOnFile("vault-1", auto_pay=True)
        self.risk, self.alerts = FakeRiskStore(), FakeAlerts()
        self.scorer = FakeRiskScorer(score, **scorer)  # type: ignore[arg-type]
        screen = Screen(
            ScreenPolicy(enforce=enforce), self.scorer, self.risk, self.alerts, ManualClock(WHEN)
        )
        self.ctx = ChargeContext(
            gateway=self.gateway,
            receivables=erp,
            records=self.records,
            now=WHEN,
            requests=charge_requests(erp),
            items=ItemScreen(screen, self.risk, RELEASE),
        )

    async def pay(self) -> AutoPayOutcome:
        result = await pay_posted_invoice(
            POSTED, company="usmf", ctx=self.ctx, attempts=FakeChargeAttempts()
        )
        return result.outcome

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


async def test_a_risky_charge_is_held_before_the_gateway_is_called():
    charging = Charging()
    assert await charging.pay() is AutoPayOutcome.HELD
    assert await charging.pay() is AutoPayOutcome.HELD  # a rerun while pending: still held
    assert charging.gateway.calls == [] and charging.records.records == {}
    (item,) = await charging.risk.items()
    assert (item.kind, item.ref, item.amount) == (
        HeldKind.CHARGE,
        "d365-auto-pay:CIV-1",
        Money.of("900.00"),
    )
    (subject, _history) = charging.scorer.seen[0]
    assert (subject.kind, subject.customer_id, subject.card_token, subject.invoice_ref) == (
        SubjectKind.SALE,
        "vault-1",
        "vault-1",
        "CIV-1",
    )
    assert charging.alerts.keys() == ["risk-review:charge:d365-auto-pay:CIV-1"]
    assert charging.risk.jobs == []  # nothing runs before a decision


async def test_approval_releases_the_job_once_and_its_run_charges_once():
    charging = Charging()
    await charging.pay()
    await charging.decide(approve=True)
    await charging.decide(approve=True)  # decided already: nothing more released
    assert charging.risk.jobs == [RELEASE]

    assert await charging.pay() is AutoPayOutcome.CHARGED
    assert await charging.pay() is AutoPayOutcome.SKIPPED  # nothing open: never twice
    assert charging.gateway.calls == [("sale", Money.of("900.00"))]
    (txn,) = charging.records.records
    (item,) = await charging.risk.items(ReviewState.APPROVED)
    assert item.transaction_id == txn  # the review covers the payment's posting
    stored = await charging.risk.assessment(txn, SubjectKind.SALE)
    assert stored is not None and stored.score == 0.95  # not scored again when it is posted
    assert len(charging.scorer.seen) == 1


async def test_a_rejected_charge_is_never_made():
    charging = Charging()
    await charging.pay()
    await charging.decide(approve=False)
    assert charging.risk.jobs == [RELEASE]  # its run records the rejection

    assert await charging.pay() is AutoPayOutcome.REJECTED
    assert charging.gateway.calls == []
    assert charging.alerts.keys().count("risk-rejected:charge:d365-auto-pay:CIV-1") == 1


@pytest.mark.parametrize("score", [0.1, 0.6])
async def test_a_charge_below_review_is_made_and_its_assessment_kept(score):
    charging = Charging(score)
    assert await charging.pay() is AutoPayOutcome.CHARGED
    (txn,) = charging.records.records
    stored = await charging.risk.assessment(txn, SubjectKind.SALE)
    assert stored is not None and stored.score == score
    assert await charging.risk.items(None) == []


async def test_shadow_mode_scores_and_charges():
    charging = Charging(enforce=False)
    assert await charging.pay() is AutoPayOutcome.CHARGED
    (txn,) = charging.records.records
    stored = await charging.risk.assessment(txn, SubjectKind.SALE)
    assert stored is not None and stored.action is Action.REVIEW
    assert await charging.risk.items(None) == [] and charging.alerts.keys() == []


async def test_a_broken_scorer_never_stops_a_charge():
    charging = Charging(fail=RuntimeError("model exploded"))
    assert await charging.pay() is AutoPayOutcome.CHARGED
    assert charging.gateway.calls == [("sale", Money.of("900.00"))]
    assert charging.alerts.keys() == [MODEL_ALERT]


async def test_a_model_problem_scores_by_the_rules_and_alerts():
    charging = Charging(0.1, problem="model file is corrupt")
    assert await charging.pay() is AutoPayOutcome.CHARGED
    assert charging.alerts.keys() == [MODEL_ALERT]
