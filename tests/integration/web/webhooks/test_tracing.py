"""A webhook's trace: the request, the fetch job it enqueued and every PayTrace request that
job made are one trace, which goes on into the payment's own job; and nothing exported holds
a card number or a secret, even when the request carried one."""

from __future__ import annotations

import json

from sqlalchemy import select

from payledger.adapters.db.tables import jobs
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.tracing import span_context_of
from tests.integration.web.webhooks.stage import SECRET, run_fetch_jobs
from tests.tracing_spans import attributes, everything_exported, named, recorded_spans

SECRETS = ("demo123", SECRET, "Bearer ", "eyJ")


async def test_a_hint_its_fetch_job_and_the_paytrace_requests_form_one_trace(
    container, sender, stage
):
    txn = await stage.sale("42.17")  # the shop's own client: before tracing starts
    with recorded_spans() as exported:
        response = await sender.hint(txn)
        assert response.status_code == 200, response.text
        await run_fetch_jobs(container)

    spans = exported.get_finished_spans()
    (request,) = named(spans, "POST /webhooks/paytrace")
    assert attributes(request) == {
        "http.request.method": "POST",
        "http.route": "/webhooks/paytrace",
        "http.response.status_code": 200,
        "payledger.ingest": "webhook",
    }
    (fetch,) = named(spans, "job ")
    calls = [s for s in spans if attributes(s).get("payledger.system") == "paytrace"]
    assert {attributes(s)["url.template"] for s in calls} >= {"/oauth/token"}
    assert all(attributes(s)["http.response.status_code"] == 200 for s in calls)
    assert all(attributes(s)["server.address"] == "127.0.0.1" for s in calls)
    assert {s.context.trace_id for s in [request, fetch, *calls]} == {request.context.trace_id}
    assert fetch.parent is not None and fetch.parent.span_id == request.context.span_id
    assert {s.parent.span_id for s in calls if s.parent} == {fetch.context.span_id}

    async with container.database.transaction() as conn:
        (stored,) = await conn.scalars(
            select(jobs.c.trace_context).where(jobs.c.kind == PROCESS_PAYMENT)
        )
    carried = span_context_of(stored)
    assert carried is not None
    assert (carried.trace_id, carried.span_id) == (fetch.context.trace_id, fetch.context.span_id)

    text = everything_exported(spans)
    assert not [secret for secret in SECRETS if secret in text]
    assert str(txn) not in json.dumps([attributes(s) for s in spans])  # ids stay templated


async def test_a_request_carrying_card_data_leaves_no_trace_of_it(sender):
    pan = TEST_CARD_NUMBERS[1]
    body = json.dumps({"type": "transaction.created", "card": pan, "csc": "7391"}).encode()
    with recorded_spans() as exported:
        refused = await sender.post(body)
        api = await sender.http.post(
            f"/api/v1/payments?card={pan}",
            json={"number": pan, "csc": "7391", "password": "hunter2"},
            headers={"authorization": "Bearer eyJsecret-token"},
        )

    assert (refused.status_code, api.status_code) == (422, 422)
    spans = exported.get_finished_spans()
    assert [attributes(s).get("payledger.ingest") for s in spans] == ["webhook", "api"]
    assert [attributes(s)["http.response.status_code"] for s in spans] == [422, 422]
    text = everything_exported(spans)
    assert pan not in text and pan[-4:] not in text
    assert "7391" not in text and "hunter2" not in text and "eyJ" not in text
