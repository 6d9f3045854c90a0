"""Translate httpx failures and F&O error answers into payledger's error tree.

Every call into httpx runs inside :func:`map_errors`; nothing from httpx leaves the adapter.

```
httpx.HTTPStatusError  401/403            -> AuthError
                       404                -> D365NotFound        (RejectedError)
                       412                -> D365PreconditionFailed (RejectedError)
                       429                -> RateLimited(retry_after)
                       5xx + AxODataWriteException body -> RejectedError (business rule)
                       5xx + XppServicesException body  -> RejectedError (custom service refusal)
                       504 on a write     -> AmbiguousOutcome
                       other 5xx          -> TransientError
                       other 4xx          -> RejectedError
httpx.ConnectError / ConnectTimeout / PoolTimeout -> TransientError (nothing was sent)
httpx.TimeoutException, ReadError ... on a write  -> AmbiguousOutcome (it may have committed)
other httpx.TransportError                        -> TransientError
```
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypedDict

import httpx

from payledger.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    ConnectorError,
    RateLimited,
    RejectedError,
    TransientError,
)

SYSTEM = "d365"
WRITE_EXCEPTION = "AxODataWriteException"
SERVICE_EXCEPTION = "XppServicesException"
"""What a custom service's X++ exception is reported as (UNCERTAIN): a business refusal."""
SERVICE_ERROR_PREFIX = "An exception occured when invoking the operation - "


class _ErrorContext(TypedDict, total=False):
    """The keyword arguments every :class:`ConnectorError` raised here carries."""

    system: str
    operation: str
    status: int | None
    request_id: str | None


class D365NotFound(RejectedError):
    """The entity set or row does not exist (or lies in a company the call did not scope to)."""


class D365PreconditionFailed(RejectedError):
    """The row changed since it was read: its ETag no longer matches ``If-Match``."""


class WritesDisabled(RejectedError):
    """A write refused before it was sent: the connector is read-only (shadow mode)."""


@dataclass(frozen=True)
class D365ErrorDetail:
    """What an F&O error body says; ``text`` is the most useful single message."""

    message: str = ""
    inner_message: str = ""
    inner_type: str = ""

    @property
    def is_write_error(self) -> bool:
        """An X++ validation failure or service exception: permanent, never retried blindly."""
        return self.inner_type.endswith((WRITE_EXCEPTION, SERVICE_EXCEPTION))

    @property
    def text(self) -> str:
        inner = self.inner_message.split("\n   at ")[0].strip()
        return inner or self.message


def parse_error_body(body: bytes | str) -> D365ErrorDetail:
    """Read ``{"error": {"message", "innererror": {...}}}`` (OData) or ``{"Message",
    "ExceptionType", "ExceptionMessage"}`` (custom services); cope with HTML and empty bodies."""
    try:
        document = json.loads(body)
        if isinstance(document, dict) and "error" not in document and "Message" in document:
            return _service_error(document)
        error = document["error"]
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return D365ErrorDetail(message=text.strip()[:500])
    if not isinstance(error, dict):
        return D365ErrorDetail(message=str(error)[:500])
    inner = error.get("innererror") or {}
    return D365ErrorDetail(
        message=str(error.get("message", "")),
        inner_message=str(inner.get("message", "")),
        inner_type=str(inner.get("type", "")),
    )


def _service_error(document: dict[str, object]) -> D365ErrorDetail:
    message = str(document.get("Message", ""))
    inner = str(document.get("ExceptionMessage") or "").removeprefix(SERVICE_ERROR_PREFIX)
    return D365ErrorDetail(
        message=message.removeprefix(SERVICE_ERROR_PREFIX),
        inner_message=inner,
        inner_type=str(document.get("ExceptionType", "")),
    )


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds, from either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def error_from_response(
    response: httpx.Response, operation: str, *, write: bool = False
) -> ConnectorError:
    """The domain error an unsuccessful F&O answer stands for."""
    status = response.status_code
    detail = parse_error_body(response.content)
    message = f"D365 {operation}: HTTP {status}" + (f": {detail.text}" if detail.text else "")
    context: _ErrorContext = {
        "system": SYSTEM,
        "operation": operation,
        "status": status,
        "request_id": response.headers.get("ms-dyn-aid"),
    }
    if status in (401, 403):
        return AuthError(message, **context)
    if status == 404:
        return D365NotFound(message, **context)
    if status == 412:
        return D365PreconditionFailed(message, **context)
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return RateLimited(message, retry_after=retry_after, **context)
    if status >= 500:
        if detail.is_write_error:
            return RejectedError(message, **context)
        if status == 504 and write:
            return AmbiguousOutcome(message, **context)
        return TransientError(message, **context)
    return RejectedError(message, **context)


@contextmanager
def map_errors(operation: str, *, write: bool = False) -> Iterator[None]:
    """Run httpx calls; re-raise their failures as payledger errors (``raise ... from exc``)."""
    context: _ErrorContext = {"system": SYSTEM, "operation": operation}
    try:
        yield
    except httpx.HTTPStatusError as exc:
        raise error_from_response(exc.response, operation, write=write) from exc
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientError(f"D365 {operation}: not sent: {exc!r}", **context) from exc
    except (httpx.TimeoutException, httpx.ReadError, httpx.RemoteProtocolError) as exc:
        if write:
            raise AmbiguousOutcome(
                f"D365 {operation}: sent but no answer ({type(exc).__name__}); "
                "re-read by natural key before retrying",
                **context,
            ) from exc
        raise TransientError(f"D365 {operation}: {type(exc).__name__}: {exc}", **context) from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"D365 {operation}: {type(exc).__name__}: {exc}", **context) from exc
