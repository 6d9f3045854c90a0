"""Cases as a state machine, for any run of outcomes: closed cases stay closed, a soft
decline is retried at most once per schedule day, a hard one never without a new card, and
only an approval recovers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from payledger.domain.dunning import (
    Attempt,
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    CollectionsStage,
    DeclineClass,
    MissedCharge,
    NoticeKind,
    after_attempt,
    close,
    open_case,
    retry_now,
)
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.domain.money import Money

SCHEDULE = RetrySchedule((1, 3, 5, 7), time(10, 0), "America/Los_Angeles")
DECLINED = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)
MISSED = MissedCharge(
    CaseSource.API, "api:1", "INV-1", "US-001", "cust-1", Money.of("30.00"), DECLINED,
    AttemptOutcome.DECLINED, "Insufficient funds",
)  # fmt: skip

STEPS = st.sampled_from(
    ["soft", "hard", "approved", "nothing_open", "card_updated", "stop", "paid_elsewhere"]
)


@settings(max_examples=300, deadline=None)
@given(first=st.sampled_from(list(DeclineClass)), steps=st.lists(STEPS, max_size=12))
def test_any_run_of_outcomes_keeps_the_rules(first, steps):
    case = replace(open_case(MISSED, first, SCHEDULE), id=1)
    now = DECLINED
    for step in steps:
        before = case
        if step in ("stop", "paid_elsewhere"):
            status = CaseStatus.STOPPED if step == "stop" else CaseStatus.PAID_ELSEWHERE
            if before.status in (CaseStatus.RECOVERED, CaseStatus.STOPPED, status):
                continue
            if before.status is CaseStatus.PAID_ELSEWHERE:
                continue
            case, _ = close(case, status, "ops")
            continue
        if step == "card_updated":
            if before.status in (
                CaseStatus.RECOVERED, CaseStatus.STOPPED, CaseStatus.PAID_ELSEWHERE,
            ):  # fmt: skip
                continue
            now += timedelta(minutes=5)
            case = retry_now(case, now, card_replaced=True)
            assert case.next_attempt_at == now and case.card_replaced
            continue
        if case.status is not CaseStatus.RETRY_SCHEDULED:
            continue  # nothing is due: the job makes no attempt
        assert case.next_attempt_at is not None
        now = max(now, case.next_attempt_at)
        outcome = {
            "soft": AttemptOutcome.DECLINED,
            "hard": AttemptOutcome.DECLINED,
            "approved": AttemptOutcome.APPROVED,
            "nothing_open": AttemptOutcome.NOTHING_OPEN,
        }[step]
        cls = {"soft": DeclineClass.SOFT, "hard": DeclineClass.HARD}.get(step)
        attempt = Attempt(len(case.attempts), now, outcome, cls, step)
        case, followup = after_attempt(case, attempt, SCHEDULE)
        assert case.attempts[-1] == attempt
        if step == "approved":
            assert case.status is CaseStatus.RECOVERED and followup.undo
            assert followup.notice is NoticeKind.RECOVERED
        elif step == "hard":
            assert case.status is CaseStatus.OPEN and case.next_attempt_at is None
            assert not case.card_replaced
        elif step == "soft" and case.status is CaseStatus.RETRY_SCHEDULED:
            assert case.next_attempt_at is not None
            assert SCHEDULE.local_day(case.next_attempt_at) > SCHEDULE.local_day(now)
        if case.status is CaseStatus.EXHAUSTED and before.status is not CaseStatus.EXHAUSTED:
            assert followup.notice is NoticeKind.FINAL_NOTICE
            assert followup.stage is CollectionsStage.FINAL_ATTEMPT_FAILED
    scheduled = [a for a in case.attempts[1:]]
    assert len(scheduled) <= len(SCHEDULE.days) + steps.count("card_updated")


def test_a_soft_decline_schedules_day_one_and_a_hard_one_waits():
    soft = open_case(MISSED, DeclineClass.SOFT, SCHEDULE)
    hard = open_case(MISSED, DeclineClass.HARD, SCHEDULE)
    assert (soft.status, soft.next_attempt_at) == (
        CaseStatus.RETRY_SCHEDULED,
        datetime(2026, 5, 5, 17, 0, tzinfo=UTC),
    )
    assert (hard.status, hard.next_attempt_at) == (CaseStatus.OPEN, None)
