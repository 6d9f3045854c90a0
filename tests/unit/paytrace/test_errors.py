"""``map_errors``: no httpx exception leaves the adapter, each becomes the right domain error."""

from __future__ import annotations

import httpx
import pytest

from payledger.adapters.paytrace import PayTraceAuthError, PayTraceRejected, map_errors
from payledger.adapters.paytrace.errors import error_for_status, rejected_from_body
from payledger.domain import (
    AmbiguousOutcome,
    ConnectorError,
    RateLimited,
    RejectedError,
    TransientError,
)

REQUEST = httpx.Request("POST", "https://api.paytrace.com/v1/transactions/sale/keyed")


@pytest.mark.parametrize(
    ("raised", "on_write", "on_read"),
    [
        (httpx.ConnectError("refused", request=REQUEST), TransientError, TransientError),
        (httpx.ConnectTimeout("slow", request=REQUEST), TransientError, TransientError),
        (httpx.PoolTimeout("busy", request=REQUEST), TransientError, TransientError),
        (httpx.ReadTimeout("lost", request=REQUEST), AmbiguousOutcome, TransientError),
        (httpx.WriteTimeout("lost", request=REQUEST), AmbiguousOutcome, TransientError),
        (httpx.ReadError("reset", request=REQUEST), AmbiguousOutcome, TransientError),
        (httpx.RemoteProtocolError("eof", request=REQUEST), AmbiguousOutcome, TransientError),
        (ValueError("not json"), AmbiguousOutcome, TransientError),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), RejectedError, RejectedError),
        (httpx.InvalidURL("bad"), RejectedError, RejectedError),
        (httpx.DecodingError("gzip", request=REQUEST), AmbiguousOutcome, TransientError),
    ],
)
def test_httpx_failures_become_domain_errors(raised, on_write, on_read):
    for writes, expected in ((True, on_write), (False, on_read)):
        with pytest.raises(ConnectorError) as mapped, map_errors("sale_keyed", writes=writes):
            raise raised
        assert type(mapped.value) is expected
        assert mapped.value.__cause__ is raised
        assert (mapped.value.system, mapped.value.operation) == ("paytrace", "sale_keyed")


def test_429_is_rate_limited_with_retry_after():
    response = httpx.Response(429, headers={"Retry-After": "12"}, request=REQUEST)
    error = error_for_status(response, "sale_keyed", writes=True)
    assert isinstance(error, RateLimited) and error.retry_after == 12


@pytest.mark.parametrize(("writes", "kind"), [(True, AmbiguousOutcome), (False, TransientError)])
def test_5xx_is_ambiguous_for_writes_transient_for_reads(writes, kind):
    response = httpx.Response(503, headers={"X-Request-Id": "r-1"}, request=REQUEST)
    error = error_for_status(response, "op", writes=writes)
    assert type(error) is kind and (error.status, error.request_id) == (503, "r-1")


def test_4xx_bodies_are_answers_not_transport_errors():
    assert error_for_status(httpx.Response(400, request=REQUEST), "op", writes=True) is None


def test_errors_body_carries_every_code_and_message():
    body = {
        "success": False,
        "response_code": 1,
        "status_message": "One or more errors has occurred.",
        "errors": {
            "35": ["Please provide a valid Credit Card Number."],
            "43": ["Please provide a valid Expiration Month."],
        },
    }
    error = rejected_from_body(body, "sale_keyed", 400)

    assert isinstance(error, PayTraceRejected) and not error.retryable
    assert error.codes == [35, 43] and error.has(43)
    assert error.messages == [
        "Please provide a valid Credit Card Number.",
        "Please provide a valid Expiration Month.",
    ]
    assert "35: Please provide a valid Credit Card Number." in str(error)


def test_981_is_an_auth_error():
    body = {
        "success": False,
        "response_code": 1,
        "errors": {"981": ["Log in failed for insufficient permissions."]},
    }
    error = rejected_from_body(body, "refund", 400)
    assert isinstance(error, PayTraceAuthError) and error.error == "981"
