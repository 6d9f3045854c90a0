"""The Vault sandbox's settings and its KV v2 entries (versioned, soft-deletable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALL_CAPABILITIES = frozenset({"create", "read", "update", "delete", "list"})
DEFAULT_TOKEN = "hvs.payledger-sandbox-token"


def _default_tokens() -> dict[str, frozenset[str]]:
    return {DEFAULT_TOKEN: ALL_CAPABILITIES}


@dataclass
class VaultSandboxSettings:
    """What the sandbox is told at start; tests change the fields at run time.

    Attributes:
        tokens: each accepted token and the capabilities its policy grants on every path.
        mounts: the KV v2 mount points.
        sealed: a sealed Vault answers 503 to everything.
        fail_next: statuses the next data requests get (429 with ``Retry-After``).
    """

    tokens: dict[str, frozenset[str]] = field(default_factory=_default_tokens)
    mounts: tuple[str, ...] = ("secret",)
    sealed: bool = False
    fail_next: list[int] = field(default_factory=list)
    retry_after_s: int = 1


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Version:
    data: dict[str, Any]
    created_time: str
    deletion_time: str = ""
    destroyed: bool = False

    def metadata(self, number: int) -> dict[str, Any]:
        return {
            "created_time": self.created_time,
            "custom_metadata": None,
            "deletion_time": self.deletion_time,
            "destroyed": self.destroyed,
            "version": number,
        }


@dataclass
class Entry:
    """One KV path: its versions by number."""

    created_time: str
    updated_time: str
    versions: dict[int, Version] = field(default_factory=dict)

    @property
    def current_version(self) -> int:
        return max(self.versions, default=0)

    def write(self, data: dict[str, Any], now: str) -> int:
        number = self.current_version + 1
        self.versions[number] = Version(data, now)
        self.updated_time = now
        return number

    def metadata(self) -> dict[str, Any]:
        return {
            "cas_required": False,
            "created_time": self.created_time,
            "current_version": self.current_version,
            "custom_metadata": None,
            "delete_version_after": "0s",
            "max_versions": 0,
            "oldest_version": min(self.versions, default=0),
            "updated_time": self.updated_time,
            "versions": {
                str(n): {
                    "created_time": v.created_time,
                    "deletion_time": v.deletion_time,
                    "destroyed": v.destroyed,
                }
                for n, v in self.versions.items()
            },
        }
