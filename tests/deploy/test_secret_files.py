"""``PAYLEDGER_<SECTION>__<KEY>_FILE=/path`` gives a key the text of a file (Docker secrets
under /run/secrets, systemd credentials), so no secret needs to sit in the environment."""

from __future__ import annotations

import os

import pytest

from payledger.config import load_settings
from payledger.domain.errors import ConfigError

URL = "postgresql://payledger:pa ss@db:5432/payledger"


@pytest.fixture(autouse=True)
def no_configuration_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("PAYLEDGER_")]:
        monkeypatch.delenv(name)


def test_a_key_is_read_from_the_file_its_variable_names(tmp_path, monkeypatch):
    secret = tmp_path / "database_url"
    secret.write_text(URL + "\n")  # as `echo ... > file` writes it
    monkeypatch.setenv("PAYLEDGER_DATABASE__URL_FILE", str(secret))
    assert load_settings().database.url == URL


def test_a_file_value_is_validated_like_any_other(tmp_path, monkeypatch):
    secret = tmp_path / "pool"
    secret.write_text("many")
    monkeypatch.setenv("PAYLEDGER_DATABASE__POOL_SIZE_FILE", str(secret))
    with pytest.raises(ConfigError, match=r"database\.pool_size: Input should be a valid integer"):
        load_settings()


def test_a_key_that_itself_ends_in_file_keeps_its_meaning(monkeypatch):
    monkeypatch.setenv("PAYLEDGER_VAULT__KEY_FILE", "/run/secrets/master_key")
    monkeypatch.setenv("PAYLEDGER_LOGGING__FILE", "")
    settings = load_settings()
    assert str(settings.vault.key_file) == "/run/secrets/master_key"
    assert settings.logging.file is None


def test_a_missing_file_is_named_with_its_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYLEDGER_DATABASE__URL_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        f"PAYLEDGER_DATABASE__URL_FILE: cannot read {tmp_path / 'absent'}: FileNotFoundError"
    )


def test_a_key_given_both_ways_is_refused(tmp_path, monkeypatch):
    secret = tmp_path / "database_url"
    secret.write_text(URL)
    monkeypatch.setenv("PAYLEDGER_DATABASE__URL_FILE", str(secret))
    monkeypatch.setenv("PAYLEDGER_DATABASE__URL", "sqlite:///other.db")
    with pytest.raises(
        ConfigError, match="set PAYLEDGER_DATABASE__URL or PAYLEDGER_DATABASE__URL_FILE, not both"
    ):
        load_settings()


def test_a_file_variable_for_no_key_is_an_unknown_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYLEDGER_DATABASE__ULR_FILE", str(tmp_path))
    with pytest.raises(
        ConfigError, match=r"unknown configuration key .* PAYLEDGER_DATABASE__ULR_FILE"
    ):
        load_settings()
