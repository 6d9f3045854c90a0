"""Replies the sandbox never gives but PayTrace might: older token shapes and garbled bodies."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from payledger.adapters.paytrace import PayTraceClient, RetryPolicy
from payledger.domain import AmbiguousOutcome, RejectedError, TransientError

TOKEN_2017 = {"access_token": "a:b:c", "token_type": "bearer", "expires_in": 7200}


async def no_sleep(seconds: float) -> None:
    return None


def client_answering(answer) -> PayTraceClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json=TOKEN_2017)
        return answer(request)

    return PayTraceClient(
        "https://api.paytrace.test",
        "u",
        "p",
        "i",
        transport=httpx.MockTransport(handle),
        sleep=no_sleep,
        retry=RetryPolicy(lookup_delay_s=0),
    )


async def test_lower_case_bearer_tokens_from_2017_are_accepted():
    seen = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(
            200,
            json={"success": True, "response_code": 112, "status_message": "", "transaction_id": 1},
        )

    async with client_answering(answer) as client:
        result = await client.capture(1, Decimal("2.5"))
    assert result.response_code == 112
    assert seen["auth"] == "Bearer a:b:c"
    assert seen["body"] == {"integrator_id": "i", "transaction_id": 1, "amount": "2.50"}


async def test_a_garbled_answer_to_a_write_is_ambiguous():
    async with client_answering(lambda r: httpx.Response(200, text="<html>oops</html>")) as client:
        with pytest.raises(AmbiguousOutcome):
            await client.settle()


async def test_a_garbled_answer_to_a_read_is_retried_then_transient():
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, text="not json")

    async with client_answering(answer) as client:
        with pytest.raises(TransientError):
            await client.export_batch()
    assert len(calls) == 4


async def test_a_non_json_client_error_is_a_rejection():
    async with client_answering(lambda r: httpx.Response(404, text="Not Found")) as client:
        with pytest.raises(RejectedError) as refused:
            await client.ping()
    assert refused.value.status == 404


async def test_a_success_body_with_the_wrong_shape_is_ambiguous_for_writes():
    body = {"success": True, "response_code": 101, "transaction_id": "not-a-number"}
    async with client_answering(lambda r: httpx.Response(200, json=body)) as client:
        with pytest.raises(AmbiguousOutcome):
            await client.void(1)
