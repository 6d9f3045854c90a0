"""What the command tests share: a configuration file on an embedded SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """``payledger.toml`` for a fresh SQLite database and vault key under ``tmp_path``."""
    path = tmp_path / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/payledger.db"\n'
        f'[vault]\nkey_file = "{tmp_path}/master.key"\n[logging]\nfile = ""\n'
    )
    return path
