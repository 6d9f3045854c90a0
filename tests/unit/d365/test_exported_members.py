"""The connector's public surface is exactly ``__all__``."""

from __future__ import annotations

import payledger.adapters.d365 as d365
import payledger.sandbox.d365 as sandbox


def test_all_names_resolve_and_are_sorted():
    for module in (d365, sandbox):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name
