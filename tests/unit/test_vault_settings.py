"""``[vault]``: the provider choice and its sections are checked when the file is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from payledger.config import load_settings
from payledger.domain.errors import ConfigError


def test_azure_key_vault_without_a_vault_url_names_the_missing_key(tmp_path: Path):
    config = tmp_path / "payledger.toml"
    config.write_text('[vault]\nprovider = "azure_key_vault"\n')
    with pytest.raises(ConfigError, match=r"vault: .*\[vault.azure_key_vault\] vault_url"):
        load_settings(config)


def test_a_vault_token_in_the_toml_is_an_unknown_key(tmp_path: Path):
    config = tmp_path / "payledger.toml"
    config.write_text('[vault.hashicorp_vault]\ntoken = "hvs.x"\n')
    with pytest.raises(ConfigError, match=r"vault.hashicorp_vault.token"):
        load_settings(config)


def test_hashicorp_vault_paths_lose_their_slashes(tmp_path: Path):
    config = tmp_path / "payledger.toml"
    config.write_text(
        '[vault]\nprovider = "hashicorp_vault"\n'
        '[vault.hashicorp_vault]\nmount_point = "/kv/"\npath_prefix = "apps/payledger/"\n'
    )
    hv = load_settings(config).vault.hashicorp_vault
    assert (hv.mount_point, hv.path_prefix) == ("kv", "apps/payledger")
