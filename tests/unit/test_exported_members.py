"""Public packages keep an explicit ``__all__`` that matches what they export."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = [
    "payledger.domain",
    "payledger.engine",
    "payledger.mapping",
    "payledger.adapters.vault",
    "payledger.adapters.paytrace",
    "payledger.adapters.d365",
    "payledger.alerts",
    "payledger.bootstrap",
    "payledger.doctor",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_all_names_exist_and_are_sorted(name):
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__)
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.{member} is listed but missing"
