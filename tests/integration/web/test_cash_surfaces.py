"""The cash picture on ``/metrics`` and on the console's dashboard (in-process; the browser
test in tests/e2e/console drives the dashboard through chromium)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from payledger.bootstrap import Container, build
from payledger.domain.clock import ManualClock
from payledger.web.app import create_app
from tests.integration.views.test_cash import NOW, seed_week
from tests.integration.web.test_console import issue, sign_in


@pytest.fixture
async def container(settings) -> AsyncIterator[Container]:
    """The service on Wednesday 25 March 2026, 10:00 in Los Angeles."""
    from payledger.adapters.db.migrate import migrate

    built = build(settings, clock=ManualClock(NOW))
    await migrate(built.database)
    yield built
    await built.aclose()


@pytest.fixture
async def client(container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(container, embedded_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url="https://payledger.test") as http:
        yield http


Labels = frozenset[tuple[str, str]]


def samples(text: str, name: str) -> dict[Labels, str]:
    """Labels → value of every sample of metric ``name``."""
    found = re.findall(rf"^{name}(?:\{{([^}}]*)\}})? (\S+)$", text, flags=re.MULTILINE)
    return {frozenset(re.findall(r'(\w+)="([^"]*)"', labels)): value for labels, value in found}


def labels(**values: str) -> Labels:
    return frozenset(values.items())


async def test_metrics_carry_the_cash_of_today_and_of_the_week(client, container):
    await seed_week(container.database)
    text = (await client.get("/metrics")).text
    cash = samples(text, "payledger_cash_amount")

    def amount(period: str, flow: str, currency: str, method: str) -> str:
        return cash[labels(period=period, flow=flow, currency=currency, method=method)]

    assert amount("today", "captured", "USD", "card") == "44.0"
    assert amount("today", "unposted", "USD", "ach") == "100.0"
    assert amount("today", "settled", "USD", "card") == "-3.5"
    assert amount("today", "posted", "USD", "card") == "0.0"
    assert amount("week", "captured", "USD", "card") == "62.25"
    assert amount("week", "posted", "USD", "card") == "47.25"
    assert amount("week", "settled", "USD", "ach") == "80.0"
    assert amount("week", "captured", "EUR", "card") == "20.0"
    assert len(cash) == 6 * 5  # six (currency, method) rows over both periods, five flows each
    assert samples(text, "payledger_oldest_unposted_journal_age_seconds") == {labels(): "93600.0"}
    assert samples(text, "payledger_oldest_unposted_journal_amount") == {
        labels(currency="USD", batch_number="JB-0003"): "-30.0"
    }
    assert "payledger_queue_depth" in text  # the engine's metrics are still there


async def test_metrics_of_an_empty_ledger_say_no_journal_waits(client):
    text = (await client.get("/metrics")).text
    assert samples(text, "payledger_cash_amount") == {}
    assert samples(text, "payledger_oldest_unposted_journal_age_seconds") == {labels(): "0.0"}


async def test_the_dashboard_shows_the_cash_panel(client, container):
    await seed_week(container.database)
    await sign_in(client, (await issue(container, "read")).secret)
    page = (await client.get("/console/")).text
    week = page[page.index('id="cash-week"') :]
    card = week[week.index('data-cash="USD.card"') :]
    assert re.search(r'data-flow="captured">62\.25<', card)
    assert re.search(r'data-flow="unposted">7\.00<', card)
    assert re.search(r'data-metric="unposted.batch">JB-0003<', page)
    assert re.search(r'data-metric="unposted.amount">-30\.00 USD<', page)
    assert re.search(r'data-metric="unposted.age">1 d 2 h<', page)
