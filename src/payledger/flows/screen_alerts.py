"""What the screen tells operators: a broken model, a risky payment, an attack under way.

Alerts go through the alert centre, which sends one alert per key with its count, so a storm
of declines is one message with the latest counts, not one per payment.
"""

from __future__ import annotations

from payledger.domain.money import Money
from payledger.domain.risk import Action, Assessment, RiskSubject, SubjectKind
from payledger.flows.screening import MODEL_ALERT, Screen

DECLINE_BURST = "risk-burst:declines"
SMALL_AUTH_BURST = "risk-burst:small-authorizations"


async def alert_on(subject: RiskSubject, assessment: Assessment, screen: Screen) -> None:
    """The alerts one newly assessed event calls for."""
    if screen.scorer.model_problem:
        await screen.alerts.notify(
            MODEL_ALERT,
            "Risk model unavailable; scoring by the rules alone",
            screen.scorer.model_problem,
            facts={"model": screen.scorer.model_version or "none"},
        )
    if screen.policy.enforce and assessment.action is not Action.ALLOW:
        await _risky(subject, assessment, screen)
    if _burst_candidate(subject, screen):
        await _burst(subject, screen)


async def _risky(subject: RiskSubject, assessment: Assessment, screen: Screen) -> None:
    held = assessment.action is Action.REVIEW
    verb = "held for review" if held else "looks risky"
    reasons = ", ".join(reason.code for reason in assessment.reasons) or "model score"
    await screen.alerts.notify(
        f"risk-{assessment.action.value}:{subject.transaction_id}",
        f"Payment {subject.transaction_id} {verb} (score {assessment.score:.2f})",
        f"{subject.kind.value} of {subject.amount} scored {assessment.score:.2f}: {reasons}",
        severity="critical" if held else "warning",
        facts={"customer": subject.customer_id or "-", "reasons": reasons},
    )


def _burst_candidate(subject: RiskSubject, screen: Screen) -> bool:
    if subject.kind is SubjectKind.DECLINE:
        return True
    ceiling = Money(screen.policy.small_authorization, subject.amount.currency)
    return subject.kind is SubjectKind.AUTHORIZATION and subject.amount.amount <= ceiling.amount


async def _burst(subject: RiskSubject, screen: Screen) -> None:
    policy = screen.policy
    since = subject.occurred_at - policy.burst_window
    small = Money(policy.small_authorization, subject.amount.currency)
    seen = await screen.store.burst(since, small)
    window = f"{int(policy.burst_window.total_seconds())} s"
    if seen.declines >= policy.burst_count and subject.kind is SubjectKind.DECLINE:
        await screen.alerts.notify(
            DECLINE_BURST,
            f"Card testing? {seen.declines} declines within {window}",
            f"{seen.declines} payments were declined within {window}; "
            f"{seen.small_authorizations} small authorizations in the same window.",
            severity="critical",
            facts={
                "declines": seen.declines,
                "declined amount": seen.declined or "-",
                "small authorizations": seen.small_authorizations,
                "window": window,
            },
        )
    if seen.small_authorizations >= policy.burst_count and subject.kind is not SubjectKind.DECLINE:
        await screen.alerts.notify(
            SMALL_AUTH_BURST,
            f"Card testing? {seen.small_authorizations} small authorizations within {window}",
            f"{seen.small_authorizations} authorizations of at most {small} within {window}; "
            f"{seen.declines} declines in the same window.",
            severity="critical",
            facts={
                "small authorizations": seen.small_authorizations,
                "declines": seen.declines,
                "window": window,
            },
        )
