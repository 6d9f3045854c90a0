"""A console page's row: the one its address names (or a 404), at the version the operator saw
(or a 409)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from payledger.web.console.access import ConsoleProblem
from payledger.web.console.ids import row_id, shown

T = TypeVar("T")


async def found_row(given: str, get: Callable[[int], Awaitable[T | None]], what: str) -> T:
    """The ``what`` (e.g. "subscription") whose id ``given`` spells, read with ``get``."""
    wanted = row_id(given)
    found = await get(wanted) if wanted is not None else None
    if found is None:
        raise ConsoleProblem(404, f"No such {what}", f"there is no {what} {shown(given)}")
    return found


def check_version(what: str, row: int, version: int, seen: str) -> None:
    """Refuse a change to ``what`` ``row`` (now at ``version``) made from a page at ``seen``."""
    if seen != str(version):
        raise ConsoleProblem(
            409,
            "Changed meanwhile",
            f"{what} {row} changed since the page was shown (it is at version {version}); "
            "reload it and try again",
        )
