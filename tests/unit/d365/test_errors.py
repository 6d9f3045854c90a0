"""map_errors(): every httpx failure and F&O error answer becomes a payledger error."""

from __future__ import annotations

import httpx
import pytest

from payledger.adapters.d365 import (
    D365NotFound,
    D365PreconditionFailed,
    map_errors,
    parse_error_body,
)
from payledger.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    RateLimited,
    RejectedError,
    TransientError,
)

REQUEST = httpx.Request("POST", "https://env.example/data/CustomersV3")
WRITE_ERROR = (
    b'{"error":{"code":"","message":"An error has occurred.","innererror":{"message":'
    b"\"Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: x.\\n"
    b'   at Microsoft.Dynamics.Ax...","type":'
    b'"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"}}}'
)


def _raise(status: int, body: bytes = b"", headers: dict | None = None, *, write: bool = False):
    response = httpx.Response(status, content=body, headers=headers or {}, request=REQUEST)
    with map_errors("create CustomersV3", write=write):
        response.raise_for_status()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, b"", AuthError),
        (403, b"", AuthError),
        (404, b"", D365NotFound),
        (412, b"", D365PreconditionFailed),
        (400, b"<html>bad</html>", RejectedError),
        (500, WRITE_ERROR, RejectedError),
        (500, b"", TransientError),
        (503, b"", TransientError),
    ],
)
def test_status_answers_map_to_the_error_tree(status, body, expected):
    with pytest.raises(expected) as caught:
        _raise(status, body)
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert caught.value.system == "d365"
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)


def test_write_error_message_is_the_infolog_without_stack():
    with pytest.raises(RejectedError) as caught:
        _raise(500, WRITE_ERROR)

    assert str(caught.value).endswith("Infolog: Warning: x.")
    assert not caught.value.retryable


def test_429_carries_retry_after():
    with pytest.raises(RateLimited) as caught:
        _raise(429, b"", {"Retry-After": "7"})
    assert caught.value.retry_after == 7.0


def test_gateway_timeout_on_a_write_is_ambiguous():
    with pytest.raises(AmbiguousOutcome):
        _raise(504, write=True)
    with pytest.raises(TransientError):
        _raise(504, write=False)


@pytest.mark.parametrize(
    ("exception", "write", "expected"),
    [
        (httpx.ConnectError("refused"), True, TransientError),
        (httpx.ConnectTimeout("slow"), True, TransientError),
        (httpx.ReadTimeout("slow"), True, AmbiguousOutcome),
        (httpx.ReadTimeout("slow"), False, TransientError),
        (httpx.RemoteProtocolError("closed"), True, AmbiguousOutcome),
        (httpx.WriteError("broken pipe"), True, TransientError),
    ],
)
def test_transport_failures_depend_on_whether_a_write_may_have_landed(exception, write, expected):
    with pytest.raises(expected) as caught, map_errors("op", write=write):
        raise exception
    assert caught.value.__cause__ is exception


def test_error_body_parser_copes_with_anything():
    assert parse_error_body(b"").text == ""
    assert parse_error_body(b"<html>Gateway</html>").text == "<html>Gateway</html>"
    assert parse_error_body(b'{"error": "nope"}').text == "nope"
