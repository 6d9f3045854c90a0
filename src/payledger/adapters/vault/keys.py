"""The master key that encrypts the vault: from ``PAYLEDGER_MASTER_KEY`` or a 0600 key file.

Several keys may be given (comma-separated in the variable, one per line in the file): the
first encrypts, all decrypt. That is how the key is rotated without downtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from payledger.domain.errors import ConfigError

MASTER_KEY_ENV = "PAYLEDGER_MASTER_KEY"


class MasterKeyStore:
    """Finds, creates and rotates the master key(s)."""

    def __init__(self, key_file: Path, environ: Mapping[str, str] | None = None) -> None:
        self.key_file = key_file
        self._environ = os.environ if environ is None else environ

    @property
    def from_environment(self) -> bool:
        return bool(self._environ.get(MASTER_KEY_ENV, "").strip())

    def keys(self) -> list[str] | None:
        """The configured keys, newest first, or None when there are none yet."""
        if self.from_environment:
            raw = self._environ[MASTER_KEY_ENV].split(",")
            source = f"environment variable {MASTER_KEY_ENV}"
        elif self.key_file.is_file():
            raw = self.key_file.read_text(encoding="ascii").splitlines()
            source = f"key file {self.key_file}"
        else:
            return None
        keys = [key.strip() for key in raw if key.strip()]
        for key in keys:
            try:
                Fernet(key)
            except ValueError:
                raise ConfigError(f"{source} holds a malformed master key") from None
        return keys or None

    def fernet(self) -> MultiFernet | None:
        keys = self.keys()
        return MultiFernet([Fernet(key) for key in keys]) if keys else None

    def create(self) -> MultiFernet:
        """Create the key file (mode 0600) with a fresh key; the variable is never written."""
        if self.from_environment:
            raise ConfigError(f"{MASTER_KEY_ENV} is set; payledger does not replace it")
        self._write([Fernet.generate_key().decode()])
        fernet = self.fernet()
        assert fernet is not None
        return fernet

    def start_rotation(self) -> MultiFernet:
        """Put a new key in front of the current ones (key file only)."""
        current = self.keys() or []
        if self.from_environment:
            if len(current) < 2:
                raise ConfigError(
                    f"to rotate, set {MASTER_KEY_ENV}=NEW_KEY,OLD_KEY and run rotate again"
                )
            return MultiFernet([Fernet(key) for key in current])
        self._write([Fernet.generate_key().decode(), *current])
        fernet = self.fernet()
        assert fernet is not None
        return fernet

    def finish_rotation(self) -> None:
        """Drop every key but the newest once nothing needs the old ones."""
        if not self.from_environment:
            keys = self.keys() or []
            self._write(keys[:1])

    def _write(self, keys: list[str]) -> None:
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.key_file.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write("\n".join(keys) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.key_file)
