"""What ``payledger doctor`` reports: one :class:`Finding` per line, in three phases.

Probes and verifications return findings and never raise: a failure becomes a finding with
a hint for fixing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

ACCESS, CONFIGURE, VALIDATE = "access", "configure and map", "validate"
"""The phases, in the order ``payledger doctor`` runs and prints them."""

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """One line of ``payledger doctor``: what was examined, the outcome, how to fix it."""

    name: str
    ok: bool
    detail: str = ""
    hint: str = ""
    skipped: bool = False
    """Not enabled, or not verifiable in this environment; never counts as a failure."""
    phase: str = ""

    @property
    def status(self) -> str:
        return "skip" if self.skipped else "ok" if self.ok else "FAIL"


def ok(phase: str, name: str, detail: str) -> Finding:
    return Finding(name, True, detail, phase=phase)


def fail(phase: str, name: str, detail: str, hint: str) -> Finding:
    return Finding(name, False, detail, hint, phase=phase)


def skip(phase: str, name: str, detail: str, hint: str = "") -> Finding:
    return Finding(name, True, detail, hint, skipped=True, phase=phase)


async def attempt(action: Callable[[], Awaitable[T]]) -> T | Exception:
    """The action's result, or the exception it raised."""
    # The doctor reports every failure, whatever its type, instead of stopping at the first.
    try:
        return await action()
    except Exception as exc:
        return exc
