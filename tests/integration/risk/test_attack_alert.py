"""A card-testing burst seen through the real alert centre: twenty declines within a minute
make ONE alert, sent within the minute, carrying the burst's counts; screening them in
shadow mode holds nothing."""

from __future__ import annotations

from datetime import timedelta

from payledger.alerts.center import AlertCenter
from payledger.alerts.model import Alert
from payledger.alerts.store import AlertStore, Windows
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.model import Outcome, PaymentToken
from payledger.engine.queue import Queue
from payledger.flows.screen_alerts import DECLINE_BURST
from payledger.flows.screen_payment import Verdict, screen_payment
from payledger.flows.screening import Screen, ScreenPolicy
from payledger.stores.risk import SqlRiskStore
from payledger.stores.risk_reviews import SqlReviewQueue
from tests.fakes_risk import FakeRiskScorer


class Inbox:
    """An alert sink that keeps what it is sent."""

    name = "inbox"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


async def test_a_burst_of_declines_is_one_alert_with_its_counts_within_a_minute(database, clock):
    queue = Queue(database, clock=clock)
    sink = Inbox()

    async def sinks() -> list[Inbox]:
        return [sink]

    center = AlertCenter(queue, AlertStore(database, Windows(gather=timedelta(seconds=30))), sinks)
    store = SqlRiskStore(database, SqlReviewQueue(queue))
    screen = Screen(
        ScreenPolicy(enforce=False, burst_count=10), FakeRiskScorer(), store, center, clock
    )
    started = clock.now()
    for n in range(20):
        declined = Payment(
            f"D{n}",
            PaymentKind.SALE,
            PaymentStatus.DECLINED,
            Money.of("1.00"),
            started + timedelta(seconds=2 * n),
            outcome=Outcome.HARD_DECLINE,
            token=PaymentToken("", masked_card=f"xxxxxxxxxxxx{4000 + n}"),
        )
        clock.advance(seconds=2)
        assert await screen_payment(n + 1, declined, screen) is Verdict.POST

    await center.dispatch()
    assert sink.alerts == []  # gathering the burst, not one alert per decline
    clock.advance(seconds=15)
    await center.dispatch()
    (alert,) = sink.alerts
    assert alert.key == DECLINE_BURST
    assert alert.facts["declines"] == "20"
    assert alert.facts["declined amount"] == "20.00 USD"
    assert clock.now() - started <= timedelta(seconds=60)  # sent within a minute
    await center.dispatch()
    assert len(sink.alerts) == 1
