"""What an alert is, and the port every alert sink implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from payledger.domain.errors import TransientError


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One message to operators; ``count`` occurrences of ``key`` since the last one sent."""

    key: str
    """What the alert is about, e.g. ``dead-letters`` or ``auth:d365``; deduplication is
    per key."""
    title: str
    text: str
    severity: Severity = Severity.WARNING
    count: int = 1
    first_at: datetime | None = None
    last_at: datetime | None = None
    facts: Mapping[str, str] = field(default_factory=dict)

    @property
    def headline(self) -> str:
        """The title with the storm size, e.g. ``"D365 is unavailable (x12)"``."""
        suffix = f" (x{self.count})" if self.count > 1 else ""
        return f"[payledger] {self.title}{suffix}"

    def details(self) -> list[tuple[str, str]]:
        """Facts in display order: the count and time span first, then the alert's own."""
        shown = [("occurrences", str(self.count)), ("severity", self.severity.value)]
        if self.first_at is not None:
            shown.append(("first", self.first_at.isoformat(timespec="seconds")))
        if self.last_at is not None and self.count > 1:
            shown.append(("last", self.last_at.isoformat(timespec="seconds")))
        return shown + list(self.facts.items())


class AlertDeliveryError(TransientError):
    """A sink could not deliver an alert; it stays pending and is tried again later."""


class AlertSink(Protocol):
    """Where alerts go: a chat webhook, an SMTP server, ..."""

    name: str
    """Shown in logs; never holds a secret (no URL, no password)."""

    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``.

        Raises:
            AlertDeliveryError: it was not delivered; the message names no secret.
        """
        ...
