"""Screening payment events: every event scored and recorded once; shadow mode holds nothing;
enforce mode holds a risky payment's posting until an operator decides, releases it once on
approval and never posts it on rejection; a broken scorer never stops a payment; a burst of
declines or small authorizations raises one alert key with its counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payledger.domain import Customer, Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.clock import ManualClock
from payledger.domain.errors import DomainError
from payledger.domain.model import Address, Outcome, PaymentToken
from payledger.domain.risk import Action, SubjectKind
from payledger.flows.ports.risk import ReviewState
from payledger.flows.post_payment import PostingRules, PostingTemplates, post_payment
from payledger.flows.review_risk import decide_review
from payledger.flows.screen_alerts import DECLINE_BURST, SMALL_AUTH_BURST
from payledger.flows.screen_payment import Verdict, screen_payment, subject_of
from payledger.flows.screening import MODEL_ALERT, Screen, ScreenPolicy
from payledger.mapping import compile_template, default_templates, example_settings
from tests.fakes import FakeLedger, FakePostingStore
from tests.fakes_orders import FakeAlerts
from tests.fakes_risk import FakeRiskScorer, FakeRiskStore

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-FALLBACK"
)
RISKY = "900.00"
"""Amount the test scorer holds for review."""


def payment(txn: str, amount: str = "25.00", **extra: Any) -> Payment:
    extra.setdefault("kind", PaymentKind.SALE)
    extra.setdefault("status", PaymentStatus.APPROVED)
    return Payment(txn, amount=Money.of(amount), occurred_at=extra.pop("at", WHEN), **extra)


def by_amount(subject: Any) -> float:
    return 0.95 if subject.amount == Money.of(RISKY) else 0.1


class Ingest:
    """Events processed as ``payment.process`` does: screen, then post what may go ahead."""

    def __init__(self, *, enforce: bool, scorer: FakeRiskScorer | None = None) -> None:
        defaults, values = default_templates(), example_settings()
        self.templates = PostingTemplates(
            journal_line=compile_template(defaults["d365_payment_journal_line"], values)
        )
        self.postings, self.ledger = FakePostingStore(), FakeLedger()
        self.risk, self.alerts = FakeRiskStore(), FakeAlerts()
        self.clock = ManualClock(WHEN)
        self.scorer = scorer or FakeRiskScorer(score_of=by_amount)
        self.screen = Screen(
            ScreenPolicy(enforce=enforce, burst_count=3),
            self.scorer,
            self.risk,
            self.alerts,
            self.clock,
        )
        self.payments: dict[int, Payment] = {}

    async def event(self, inbox_id: int, event: Payment) -> Verdict:
        self.payments[inbox_id] = event
        verdict = await screen_payment(inbox_id, event, self.screen)
        if verdict is Verdict.POST:
            await post_payment(
                inbox_id,
                event,
                rules=RULES,
                templates=self.templates,
                ledger=self.ledger,
                store=self.postings,
            )
        return verdict

    async def decide(self, item_id: int, approve: bool, actor: str = "ops@example.com") -> Any:
        released_before = len(self.risk.released)
        decided = await decide_review(
            item_id,
            approve=approve,
            actor=actor,
            comment="checked with the customer",
            queue=self.risk,
            alerts=self.alerts,
            clock=self.clock,
        )
        for inbox_id in self.risk.released[released_before:]:  # the worker runs the releases
            await self.event(inbox_id, self.payments[inbox_id])
        return decided

    def posted(self, txn: str) -> list[str]:
        return [p.reference for p in self.postings.postings.values() if p.gateway_txn_id == txn]


async def test_every_event_is_scored_and_recorded_once_with_its_reasons():
    ingest = Ingest(enforce=False)
    await ingest.event(1, payment("T1", RISKY))
    await ingest.event(1, payment("T1", RISKY))  # the same event processed again
    assert len(ingest.scorer.seen) == 1
    ((subject, assessment),) = ingest.risk.assessed.values()
    assert (subject.transaction_id, subject.kind) == ("T1", SubjectKind.SALE)
    assert assessment.action is Action.REVIEW
    assert [r.code for r in assessment.reasons] == ["fake_rule"]


async def test_shadow_mode_holds_and_alerts_nothing():
    ingest = Ingest(enforce=False)
    assert await ingest.event(1, payment("T1", RISKY)) is Verdict.POST
    assert ingest.posted("T1")
    assert ingest.risk.reviews == {}
    assert ingest.alerts.sent == []


async def test_enforce_holds_a_risky_posting_until_approved_then_posts_it_once():
    ingest = Ingest(enforce=True)
    assert await ingest.event(1, payment("T1", RISKY)) is Verdict.HELD
    assert ingest.posted("T1") == []
    assert ingest.risk.events == {1: "held"}
    assert ingest.alerts.keys() == ["risk-review:T1"]
    (item,) = await ingest.risk.items()
    assert (item.ref, item.state, item.score) == ("T1", ReviewState.PENDING, 0.95)

    decided = await ingest.decide(item.id, approve=True)
    assert (decided.applied, decided.released) == (True, 1)
    assert len(ingest.posted("T1")) == 1

    again = await ingest.decide(item.id, approve=True, actor="second@example.com")
    assert (again.applied, again.released) == (False, 0)
    assert again.item.decided_by == "ops@example.com"
    assert len(ingest.posted("T1")) == 1
    assert ingest.risk.released == [1]


async def test_a_later_state_of_a_held_payment_waits_with_it():
    ingest = Ingest(enforce=True)
    await ingest.event(1, payment("T1", RISKY))
    settled = payment("T1", RISKY, status=PaymentStatus.SETTLED)
    assert await ingest.event(2, settled) is Verdict.HELD
    assert ingest.posted("T1") == []
    (item,) = await ingest.risk.items()
    await ingest.decide(item.id, approve=True)
    assert ingest.risk.released == [1, 2]
    assert len(ingest.posted("T1")) == 1


async def test_a_rejected_payment_is_never_posted_and_operators_are_told():
    ingest = Ingest(enforce=True)
    await ingest.event(1, payment("T1", RISKY))
    (item,) = await ingest.risk.items()
    decided = await ingest.decide(item.id, approve=False)
    assert decided.item.state is ReviewState.REJECTED
    assert ingest.risk.events == {1: "rejected"}
    texts = {key: text for key, _title, text, *_ in ingest.alerts.sent}
    text = texts["risk-rejected:posting:T1"]
    assert "never be posted" in text

    settled = payment("T1", RISKY, status=PaymentStatus.SETTLED)
    assert await ingest.event(2, settled) is Verdict.REJECTED
    assert ingest.posted("T1") == []
    assert (await ingest.decide(item.id, approve=True)).applied is False
    assert ingest.posted("T1") == []


async def test_an_alert_score_tells_operators_but_holds_nothing():
    ingest = Ingest(enforce=True, scorer=FakeRiskScorer(0.6))
    assert await ingest.event(1, payment("T1")) is Verdict.POST
    assert ingest.posted("T1")
    assert ingest.alerts.keys() == ["risk-alert:T1"]


async def test_deciding_an_unknown_item_is_a_clear_error():
    ingest = Ingest(enforce=True)
    with pytest.raises(DomainError, match="review item 42 does not exist"):
        await ingest.decide(42, approve=True)


@pytest.mark.parametrize("enforce", [False, True])
async def test_a_failing_scorer_never_stops_a_payment(enforce: bool):
    ingest = Ingest(enforce=enforce, scorer=FakeRiskScorer(fail=RuntimeError("model exploded")))
    assert await ingest.event(1, payment("T1", RISKY)) is Verdict.POST
    assert ingest.posted("T1")
    assert ingest.alerts.keys() == [MODEL_ALERT]
    ((_subject, assessment),) = ingest.risk.assessed.values()
    assert (assessment.action, assessment.reasons[0].code) == (Action.ALLOW, "screen_failed")


async def test_a_broken_model_is_alerted_under_one_key():
    ingest = Ingest(enforce=True, scorer=FakeRiskScorer(0.1, problem="model file is corrupt"))
    for n in range(3):
        await ingest.event(n, payment(f"T{n}"))
    assert set(ingest.alerts.keys()) == {MODEL_ALERT}
    assert ingest.alerts.sent[0][2] == "model file is corrupt"


async def test_a_burst_of_declines_raises_one_alert_key_with_its_counts():
    ingest = Ingest(enforce=False)
    for n in range(5):
        declined = payment(
            f"D{n}",
            "1.00",
            status=PaymentStatus.DECLINED,
            outcome=Outcome.HARD_DECLINE,
            at=WHEN + timedelta(seconds=n),
        )
        await ingest.event(n, declined)
    bursts = [sent for sent in ingest.alerts.sent if sent[0] == DECLINE_BURST]
    assert [facts["declines"] for *_, facts in bursts] == [3, 4, 5]
    assert set(ingest.alerts.keys()) == {DECLINE_BURST}


async def test_small_authorizations_make_a_burst_but_declines_spread_out_do_not():
    ingest = Ingest(enforce=False)
    for n in range(3):
        auth = payment(f"A{n}", "0.50", kind=PaymentKind.AUTHORIZATION, at=WHEN)
        await ingest.event(n, auth)
    for n in range(3):
        spread = WHEN + timedelta(minutes=5 * (n + 1))
        declined = payment(f"D{n}", "1.00", status=PaymentStatus.DECLINED, at=spread)
        await ingest.event(10 + n, declined)
    assert set(ingest.alerts.keys()) == {SMALL_AUTH_BURST}


def test_the_subject_carries_what_the_gateway_said_and_never_a_card_number():
    event = payment(
        "T1",
        customer=Customer(
            "Ann", gateway_customer_id="C-7", billing_address=Address(postal_code="98101")
        ),
        token=PaymentToken("C-7", masked_card="xxxxxxxxxxxx5454"),
        avs_result="No Match",
        csc_result="Match",
        ip_address="203.0.113.9",
        invoice_ref="INV-9",
    )
    subject = subject_of(event)
    assert subject is not None
    assert (subject.customer_id, subject.card_token, subject.billing_zip) == ("C-7", "C-7", "98101")
    assert (subject.avs_result, subject.csc_result, subject.ip_address) == (
        "No Match",
        "Match",
        "203.0.113.9",
    )
    void = payment("T1", kind=PaymentKind.VOID, status=PaymentStatus.VOIDED)
    assert subject_of(void) is None
    refund = subject_of(payment("R1", kind=PaymentKind.REFUND, original_txn_id="T1"))
    assert refund is not None and refund.kind is SubjectKind.REFUND


async def test_a_refund_is_scored_knowing_the_card_of_its_sale():
    ingest = Ingest(enforce=False)
    await ingest.event(1, payment("T1", token=PaymentToken("C-7")))
    await ingest.event(
        2, payment("R1", kind=PaymentKind.REFUND, original_txn_id="T1", token=PaymentToken("C-8"))
    )
    refund, _history = ingest.scorer.seen[-1]
    assert (refund.card_token, refund.original_card_token) == ("C-8", "C-7")
