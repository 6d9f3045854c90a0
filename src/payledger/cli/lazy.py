"""Commands that import their module only when they run.

``payledger --help`` lists every command from :data:`COMMANDS` alone: the modules behind them
(FastAPI, SQLAlchemy, msal, the sandboxes...) are imported when that command is parsed. Typer
has no lazy loading of its own; click's documented pattern (a group resolving names on
demand) would still import every module to print the list, hence a placeholder command that
carries its one-line help and stands in for the real one until it is used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Entry:
    """A command: where it lives (``module:attribute``, a function or a Typer app) and its
    one-line help, shown by ``payledger --help``."""

    target: str
    summary: str


COMMANDS: dict[str, Entry] = {
    "demo": Entry(
        "payledger.cli.demo:demo",
        "Run a day of payments through both sandboxes and prove PayTrace and D365 agree.",
    ),
    "serve": Entry(
        "payledger.cli.operate:serve",
        "Serve the HTTP API, health, readiness and metrics (with an embedded worker by default).",
    ),
    "worker": Entry(
        "payledger.cli.operate:worker",
        "Run jobs and schedules until SIGTERM or Ctrl-C; in-flight jobs finish first.",
    ),
    "migrate": Entry(
        "payledger.cli.operate:migrate_command",
        "Create or upgrade the database schema (PostgreSQL needs this before serve/worker).",
    ),
    "backup": Entry(
        "payledger.cli.backup:backup",
        "Copy the SQLite database to DEST while payledger runs, and verify the copy.",
    ),
    "replay": Entry(
        "payledger.cli.operate:replay",
        "Return dead letters to work after the data or configuration was fixed.",
    ),
    "backfill": Entry(
        "payledger.cli.backfill:backfill",
        "Bring a past period in from PayTrace's exports, a day at a time.",
    ),
    "status": Entry(
        "payledger.cli.status:status",
        "Show what is waiting, what was posted and what needs a human.",
    ),
    "scan-pan": Entry(
        "payledger.cli.scan:scan_pan",
        "Scan every table of the database and the log files for card data; exit 1 on any hit.",
    ),
    "sandbox": Entry(
        "payledger.cli.sandbox:sandbox",
        "Serve faithful local emulators of PayTrace and Dynamics 365 F&O (Ctrl-C to stop).",
    ),
    "doctor": Entry(
        "payledger.cli.doctor:doctor_command",
        "Check access (database, vault, PayTrace, D365), setup and templates; exit 1 on a failure.",
    ),
    "secrets": Entry(
        "payledger.cli.secrets:app",
        "Store, list, rotate and delete secrets (values are never printed).",
    ),
    "tokens": Entry(
        "payledger.cli.tokens:app",
        "Create, list and revoke API tokens (stored hashed; a token is shown once).",
    ),
    "bench": Entry(
        "payledger.cli.bench:app", "Benchmarks (figures for the closing note; not tests)."
    ),
    "mapping": Entry(
        "payledger.cli.mapping:app",
        "Check, preview and version templates; suggest sources for unmapped fields.",
    ),
    "shadow": Entry(
        "payledger.cli.shadow:app",
        'Shadow mode (\\[posting] mode = "shadow"): D365 read, never written.',
    ),
    "reconcile": Entry(
        "payledger.cli.reconcile:app",
        "Settlement reconciliation: PayTrace batches against D365 payment lines.",
    ),
    "sync": Entry("payledger.cli.sync:app", "Keep D365 and PayTrace records in step."),
    "journals": Entry(
        "payledger.cli.journals:app",
        "Payment journals: list them; approve and post one now.",
    ),
    "subscriptions": Entry(
        "payledger.cli.subscriptions:app",
        "Subscriptions (recurring billing): list, show, create, change, pause, resume, cancel.",
    ),
    "dunning": Entry(
        "payledger.cli.dunning:app",
        "Dunning cases (declined charges retried): list, show, retry now, stop.",
    ),
    "risk": Entry(
        "payledger.cli.risk:app",
        "Risk screening: the review queue (list, approve, reject), training, status.",
    ),
}


def load(name: str, entry: Entry) -> Any:
    """The real click command behind ``entry``, named ``name``."""
    module, attribute = entry.target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    parent = typer.Typer(add_completion=False)
    if isinstance(found, typer.Typer):
        parent.add_typer(found, name=name)
    else:
        parent.command(name)(found)
        parent.callback()(lambda: None)  # a group of one, so the command keeps its name
    group = typer.main.get_command(parent)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class _Deferred(TyperCommand):
    """Stands in for a command in the group's listing; parsing it loads and runs the real one."""

    def __init__(self, name: str, entry: Entry) -> None:
        super().__init__(name, help=entry.summary, short_help=entry.summary)
        self.entry = entry

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        real = load(self.name or "", self.entry)
        return real.make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """The ``payledger`` group: every command of :data:`COMMANDS`, imported on use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, entry in COMMANDS.items():
            self.add_command(_Deferred(name, entry))
