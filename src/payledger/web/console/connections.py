"""Connection status for the console: the access checks of ``payledger doctor``, bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from payledger.bootstrap import Container
from payledger.doctor.access import probe_d365, probe_database, probe_paytrace, probe_vault
from payledger.doctor.report import ACCESS, Finding

CHECK_TIMEOUT_SECONDS = 10.0
"""A system that does not answer within this is shown as failing, not waited for."""


@dataclass(frozen=True)
class SystemStatus:
    """One line of the dashboard's connection panel."""

    system: str
    state: str
    """``ok``, ``failing`` or ``off`` (not enabled)."""
    detail: str


async def _bounded(name: str, run: Callable[[], Awaitable[list[Finding]]]) -> list[Finding]:
    try:
        return await asyncio.wait_for(run(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        detail = f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s"
        return [Finding(name, False, detail, "is it reachable from here?", phase=ACCESS)]


async def _d365(container: Container) -> list[Finding]:
    return (await probe_d365(container)).findings


async def connection_checks(container: Container) -> list[Finding]:
    """Database, vault, PayTrace and D365 access, as ``payledger doctor`` checks them."""
    database = await _bounded("database", lambda: probe_database(container))
    vault = await _bounded("vault", lambda: probe_vault(container))
    paytrace, d365 = await asyncio.gather(
        _bounded("PayTrace", lambda: probe_paytrace(container)),
        _bounded("D365", lambda: _d365(container)),
    )
    return database + vault + paytrace + d365


def system_status(results: list[Finding], system: str) -> SystemStatus:
    """The state of one system (``PayTrace``, ``D365``, ``database``) from its checks."""
    mine = [result for result in results if result.name.split()[0] == system]
    if not mine:
        return SystemStatus(system, "off", "not checked")
    failed = [result for result in mine if not result.ok]
    if failed:
        return SystemStatus(system, "failing", f"{failed[0].name}: {failed[0].detail}")
    if all(result.skipped for result in mine):
        return SystemStatus(system, "off", mine[0].detail)
    return SystemStatus(system, "ok", "; ".join(result.detail for result in mine))
