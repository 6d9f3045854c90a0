"""Health, readiness, metrics and the inbound guard of the HTTP service."""

from __future__ import annotations

import pytest

from payledger.engine.jobs import NewJob


async def test_health_says_the_process_is_up(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_answers(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_not_ready_when_the_database_is_unreachable(client, container):
    from payledger.adapters.db.database import Database

    await container.database.dispose()
    container.database = Database("postgresql://nobody@127.0.0.1:1/nowhere")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_metrics_expose_queue_depth_and_worker_counters(client, container):
    async with container.database.transaction() as conn:
        await container.queue.enqueue_many(conn, [NewJob("x") for _ in range(3)])
    response = await client.get("/metrics")
    assert response.status_code == 200
    body = response.text
    assert 'payledger_queue_depth{status="pending"} 3.0' in body
    for name in (
        "payledger_jobs_claimed",
        "payledger_jobs_completed",
        "payledger_jobs_failed",
        "payledger_jobs_dead",
        "payledger_job_lease_expiries_total",
        "payledger_oldest_unprocessed_event_seconds",
        "payledger_payments_processed",
    ):
        assert name in body


async def test_every_response_carries_a_correlation_id(client):
    chosen = await client.get("/healthz", headers={"X-Request-ID": "shop-123"})
    assert chosen.headers["x-request-id"] == "shop-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("where", "request_kwargs"),
    [
        ("body", {"json": {"payment": {"card": "4111111111111111"}}}),
        ("body", {"content": b"not json but 5454 5454 5454 5454"}),
        ("body", {"data": {"cc": "x", "memo": "371449635392376"}}),
        ("query", {"params": {"q": "4012000098765439"}}),
        ("header", {"headers": {"X-Note": "6011000993026909"}}),
    ],
)
async def test_requests_carrying_card_data_are_refused_with_422(client, where, request_kwargs):
    response = await client.post("/anything", **request_kwargs)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "card_data_rejected"
    assert body["fields"][0].startswith(where)
    assert "4111111111111111" not in response.text


async def test_oversized_bodies_are_refused_with_413(client):
    response = await client.post("/anything", content=b"x" * 5000)
    assert response.status_code == 413
    assert "4096" in response.json()["detail"]
