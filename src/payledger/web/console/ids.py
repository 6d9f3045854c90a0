"""Ids in console addresses and forms: text that names no row a database could hold is simply
not found, never a query that fails."""

from __future__ import annotations

LARGEST_ID = 2**63 - 1
"""The largest id a column holds (PostgreSQL BIGINT, SQLite INTEGER)."""
_DIGITS = len(str(LARGEST_ID))


def row_id(text: str) -> int | None:
    """The id ``text`` spells in decimal digits, or None when no row could have it."""
    if not text.isascii() or not text.isdigit() or len(text) > _DIGITS:
        return None
    value = int(text)
    return value if 1 <= value <= LARGEST_ID else None


def shown(text: str) -> str:
    """``text`` as quoted back in an error, cut short."""
    return repr(text[:24] + ("…" if len(text) > 24 else ""))
