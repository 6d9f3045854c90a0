"""The error tree every layer of payledger speaks.

```
PayLedgerError
├── DomainError         a business rule is broken (CurrencyMismatch, ...)
├── MappingError        a record cannot be mapped; it is parked for a human
├── ConnectorError      raised by adapters only; carries system, operation, status, request id
│   ├── TransientError  timeout, 5xx, throttling: worth retrying later
│   │   └── RateLimited the vendor asked us to wait ``retry_after`` seconds
│   ├── AmbiguousOutcome a write may or may not have happened: re-read before retrying
│   └── RejectedError   the vendor refused the request (validation, 4xx): retrying won't help
│       └── AuthError   credentials refused
├── CardDataRejected    an inbound payload carried a card number, CSC or track data
└── ConfigError         configuration is missing or wrong
```

``retryable`` tells the worker what to do: retryable and unknown errors are retried with backoff
up to the retry budget, non-retryable ones go to the dead letters at once.

``code`` is the stable snake_case name an error goes by in API bodies (``{"error": code}``) and
logs: the class name in snake_case (``CardDataRejected`` → ``card_data_rejected``) unless the
class sets its own.
"""

from __future__ import annotations

import re
from typing import ClassVar

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``CardDataRejected`` → ``card_data_rejected``; ``D365NotFound`` → ``d365_not_found``."""
    return _WORD_START.sub("_", name).lower()


class PayLedgerError(Exception):
    """Root of every error payledger raises on purpose."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "payledger_error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = snake_case(cls.__name__)


class DomainError(PayLedgerError):
    """A business rule is broken."""


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were combined."""


class MappingError(PayLedgerError):
    """A record cannot be mapped to its target; it is parked, never posted with gaps."""


class ConfigError(PayLedgerError):
    """Configuration is missing or wrong."""

    code = "not_configured"


class CardDataRejected(PayLedgerError):
    """An inbound payload holds a card number, CSC or track data; it is refused whole."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(
            "card data is never accepted: found what looks like a card number in "
            + ", ".join(fields)
        )


class ConnectorError(PayLedgerError):
    """A call to an external system failed."""

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        operation: str = "",
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.system = system
        self.operation = operation
        self.status = status
        self.request_id = request_id


class TransientError(ConnectorError):
    """Timeout, 5xx or throttling: the same request may succeed later."""

    retryable = True


class RateLimited(TransientError):
    """The vendor asked us to slow down for ``retry_after`` seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, **context: object
    ) -> None:
        super().__init__(message, **context)  # type: ignore[arg-type]
        self.retry_after = retry_after


class AmbiguousOutcome(ConnectorError):
    """A write was sent but its outcome is unknown; look it up before any retry."""

    retryable = True
    code = "outcome_unknown"


class RejectedError(ConnectorError):
    """The vendor refused the request; sending it again unchanged will not help."""


class AuthError(RejectedError):
    """Credentials were refused."""
