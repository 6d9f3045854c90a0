"""How failures become answers: every error body is ``{"error": code, "detail": sentence}``
with a stable snake_case ``code``.

* a :class:`~payledger.domain.errors.PayLedgerError` that reaches the app answers with its
  class's ``code`` and the status :func:`problem_of` gives its kind;
* a request FastAPI cannot validate is refused as :func:`~payledger.web.inbound.refused_request`
  says (400 ``malformed_json``, 422 ``invalid_body`` / ``invalid_request``), never echoing
  what was sent, so a body holding NaN or a lone surrogate still gets its 4xx;
* an ``HTTPException`` (an unknown path, a wrong method) answers with its status's name
  (``not_found``, ``method_not_allowed``).
"""

from __future__ import annotations

import re
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from payledger.domain.errors import (
    AmbiguousOutcome,
    CardDataRejected,
    ConfigError,
    DomainError,
    MappingError,
    PayLedgerError,
    RateLimited,
    RejectedError,
    TransientError,
)
from payledger.web.inbound import refused_request
from payledger.web.problems import ApiProblem

_STATUS_FOR_ERROR: list[tuple[type[PayLedgerError], int]] = [
    (CardDataRejected, 422),
    (DomainError, 422),
    (MappingError, 422),
    (RejectedError, 502),
    (AmbiguousOutcome, 502),
    (TransientError, 503),
    (ConfigError, 503),
]


def problem_of(exc: PayLedgerError) -> ApiProblem:
    """The answer to ``exc``: its ``code``, its message, and the status for its kind (500 for a
    kind no client can act on)."""
    status = next((code for kind, code in _STATUS_FOR_ERROR if isinstance(exc, kind)), 500)
    headers = {}
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return ApiProblem(status, exc.code, str(exc), headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def install_error_handlers(app: FastAPI) -> None:
    """Answer PayLedgerError, validation failures and HTTP exceptions as the module says."""

    async def payledger_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PayLedgerError)
        return problem_of(exc).response()

    async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return refused_request(exc.errors(), exc.body).response()

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        phrase = _phrase(exc.status_code)
        code = "_".join(re.findall(r"[a-z0-9]+", phrase.lower()))
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        headers = dict(exc.headers or {})
        return ApiProblem(exc.status_code, code, detail, headers=headers).response()

    app.add_exception_handler(PayLedgerError, payledger_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
