"""PayTrace errors in payledger's error tree, and the one place httpx exceptions are mapped.

```
ConnectorError (domain)
├── TransientError          connection failed, 5xx or timeout on a read; retry later
│   └── RateLimited         429, with retry_after from Retry-After
├── AmbiguousOutcome        a write was sent and its answer lost (timeout, 5xx, garbled)
└── RejectedError
    ├── PayTraceRejected    success false with ``errors`` (codes + messages) or a refusal
    └── AuthError
        └── PayTraceAuthError  invalid_grant, invalid_token twice, error 981
```
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import ValidationError

from payledger.domain import (
    AmbiguousOutcome,
    AuthError,
    ConnectorError,
    RateLimited,
    RejectedError,
    TransientError,
)

SYSTEM = "paytrace"
PERMISSION_DENIED = 981


def _codes(errors: dict[str, list[str]]) -> dict[int, list[str]]:
    return {int(code) if code.isdigit() else -1: list(texts) for code, texts in errors.items()}


class PayTraceRejected(RejectedError):
    """PayTrace refused the request; ``errors`` maps each numeric code to its messages."""

    def __init__(
        self,
        message: str,
        *,
        response_code: int,
        errors: dict[str, list[str]] | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, system=SYSTEM, **context)
        self.response_code = response_code
        self.errors = _codes(errors or {})

    @property
    def codes(self) -> list[int]:
        return list(self.errors)

    @property
    def messages(self) -> list[str]:
        return [text for texts in self.errors.values() for text in texts]

    def has(self, code: int) -> bool:
        return code in self.errors


class PayTraceAuthError(AuthError):
    """Credentials or permissions refused: ``error`` is the OAuth error or ``"981"``."""

    def __init__(self, message: str, *, error: str, **context: Any) -> None:
        super().__init__(message, system=SYSTEM, **context)
        self.error = error


def rejected_from_body(body: dict[str, Any], operation: str, status: int) -> Exception:
    """The typed error for a ``success: false`` body (981 is an auth problem)."""
    errors = body.get("errors") or {}
    texts = "; ".join(f"{code}: {' '.join(msgs)}" for code, msgs in errors.items())
    message = f"PayTrace refused {operation}: {texts or body.get('status_message', '')}"
    if str(PERMISSION_DENIED) in errors:
        return PayTraceAuthError(
            message, error=str(PERMISSION_DENIED), operation=operation, status=status
        )
    return PayTraceRejected(
        message,
        response_code=int(body.get("response_code") or 0),
        errors=errors,
        operation=operation,
        status=status,
    )


def error_for_status(response: httpx.Response, operation: str, *, writes: bool) -> Exception | None:
    """429 → RateLimited; 5xx → AmbiguousOutcome for writes, TransientError for reads."""
    context: dict[str, Any] = {
        "system": SYSTEM,
        "operation": operation,
        "status": response.status_code,
        "request_id": response.headers.get("x-request-id"),
    }
    if response.status_code == 429:
        return RateLimited(
            f"PayTrace throttled {operation}", retry_after=_retry_after(response), **context
        )
    if response.status_code >= 500:
        kind = AmbiguousOutcome if writes else TransientError
        return kind(f"PayTrace answered {response.status_code} to {operation}", **context)
    return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(float(response.headers.get("retry-after", "")), 0.0)
    except ValueError:
        return None


@contextmanager
def map_errors(operation: str, *, writes: bool) -> Iterator[None]:
    """Turn httpx (and reply-parsing) failures into payledger errors, ``from`` the original.

    A request that never reached PayTrace (connect failure, pool or connect timeout) is
    transient. One that may have reached it and lost its answer (read/write timeout, broken
    connection, garbled reply) is ambiguous when it ``writes``, transient otherwise.
    """
    lost: type[ConnectorError] = AmbiguousOutcome if writes else TransientError
    try:
        yield
    except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError) as exc:
        message = f"could not reach PayTrace for {operation}: {exc!r}"
        raise TransientError(message, system=SYSTEM, operation=operation) from exc
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        message = f"no answer from PayTrace to {operation}: {exc!r}"
        raise lost(message, system=SYSTEM, operation=operation) from exc
    except (ValueError, ValidationError) as exc:
        message = f"unreadable PayTrace answer to {operation}: {exc}"
        raise lost(message, system=SYSTEM, operation=operation) from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        message = f"bad PayTrace URL for {operation}: {exc}"
        raise RejectedError(message, system=SYSTEM, operation=operation) from exc
    except httpx.HTTPError as exc:
        message = f"PayTrace call {operation} failed: {exc!r}"
        raise lost(message, system=SYSTEM, operation=operation) from exc
