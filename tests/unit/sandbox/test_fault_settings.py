"""The sandboxes' fault knobs take the numbers their control APIs read from JSON."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from payledger.sandbox.faults import FaultSettings


def test_exact_json_numbers_become_the_settings_own_types():
    settings = FaultSettings()

    settings.update({"hang_s": Decimal("0.01"), "retry_after_s": Decimal("2"), "outage": True})

    assert settings.hang_s == 0.01 and type(settings.hang_s) is float
    assert settings.retry_after_s == 2 and type(settings.retry_after_s) is int
    assert settings.outage is True


async def test_a_hang_set_through_the_control_api_can_be_slept():
    settings = FaultSettings()
    settings.update({"hang_s": Decimal("0.001")})

    await asyncio.sleep(settings.hang_s)  # a Decimal here raised TypeError


def test_unknown_knobs_are_named():
    with pytest.raises(ValueError, match="nonsense"):
        FaultSettings().update({"nonsense": 1})
