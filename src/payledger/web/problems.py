"""Errors the API answers with on purpose: a status, a machine-readable code, a sentence.

Routes and dependencies raise :class:`ApiProblem`; the app turns it into
``{"error": code, "detail": sentence}`` (see :class:`ErrorBody`), the shape every payledger
error response has.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    """Every error response: what went wrong, for programs and for people."""

    model_config = ConfigDict(extra="allow")

    error: str
    """A stable code, e.g. ``idempotency_key_missing``."""
    detail: str
    """A sentence saying what is wrong and what to do."""


class UnprocessableBody(BaseModel):
    """A 400 or 422: an :class:`ErrorBody`, or FastAPI's own answer to a body it could not
    parse (400) or validate (422, a list of errors), which has ``detail`` only."""

    model_config = ConfigDict(extra="allow")

    error: str | None = None
    detail: str | list[Any]


class ApiProblem(Exception):
    """An error response: raise it anywhere in a request to answer with it."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, **self.extra}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting ``statuses`` with :class:`ErrorBody`."""
    meanings = {
        400: "The request is incomplete (e.g. no Idempotency-Key)",
        401: "No valid API token",
        403: "The token lacks the scope this endpoint needs",
        404: "Not found",
        409: "Conflicts with the current state or with a request still in flight",
        422: "The body is invalid, carries card data, or reuses a key with another body",
        502: "The payment gateway's answer is unknown or refused the request",
        503: "A dependency is unavailable; retry later with the same Idempotency-Key",
    }
    return {
        status: {
            "model": UnprocessableBody if status in (400, 422) else ErrorBody,
            "description": meanings.get(status, "Error"),
        }
        for status in statuses
    }


def install_problem_handler(app: FastAPI) -> None:
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return exc.response()

    app.add_exception_handler(ApiProblem, handle)
