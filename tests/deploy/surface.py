"""What deployment files may name: payledger's commands and options (walked from the CLI's
table and Typer) and its settings' environment variables (walked from ``Settings``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import typer
from pydantic import BaseModel
from typer.core import TyperGroup

from payledger.cli.lazy import COMMANDS, load
from payledger.config import Settings

ROOT = Path(__file__).parents[2]


def command_problems(argv: Sequence[str]) -> list[str]:
    """Why ``payledger *argv`` would not parse (unknown command, option, value): [] if it does.

    The real command is loaded through ``cli/lazy.py`` and Typer's click parses the arguments as it
    would at run time, without running the command.
    """
    if not argv:
        return ["no command"]
    name, *rest = argv
    if name not in COMMANDS:
        return [f"payledger has no command {name!r}"]
    command = load(name, COMMANDS[name])
    path = [name]
    while isinstance(command, TyperGroup) and rest and not rest[0].startswith("-"):
        found = command.commands.get(rest[0])
        if found is None:
            return [f"payledger {' '.join(path)} has no command {rest[0]!r}"]
        path.append(rest.pop(0))
        command = found
    try:
        command.make_context(" ".join(path), list(rest))
    except typer.TyperException as exc:  # typer's click raises its usage errors as these
        return [f"payledger {' '.join(argv)}: {exc}"]
    return []


def _keys(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _keys(annotation, (*path, key))
        else:
            yield (*path, key)


def setting_variables() -> dict[str, str]:
    """Every ``PAYLEDGER_…`` variable that sets a key, with the key (``database.url``)."""
    prefix = Settings.model_config.get("env_prefix", "")
    delimiter = Settings.model_config.get("env_nested_delimiter") or "__"
    return {(prefix + delimiter.join(path)).upper(): ".".join(path) for path in _keys(Settings)}


def variable_problems(names: Sequence[str]) -> list[str]:
    """Variables that set no key, directly or as ``<variable>_FILE``."""
    known = setting_variables()
    return [
        f"{name} is no configuration key"
        for name in names
        if name not in known and not (name.endswith("_FILE") and name[: -len("_FILE")] in known)
    ]
