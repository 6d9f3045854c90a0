"""The operators' alert centre, as the flows raise alerts through it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class OperatorAlerts(Protocol):
    """The operators' alert centre (``payledger.alerts.AlertCenter`` fits): occurrences of
    one ``key`` are sent together, with their count."""

    async def notify(
        self,
        key: str,
        title: str,
        text: str,
        *,
        severity: str = "warning",
        facts: Mapping[str, object] | None = None,
    ) -> None: ...

    async def clear(self, key: str) -> None:
        """What ``key`` warned of is over: its occurrences not sent yet are dropped."""
        ...
