"""The templates a process maps with: the seeds, each replaced by its active saved version.

An activation takes effect for new work in every process without a restart: before a job
runs, :meth:`TemplatesInForce.refresh` compares the activation generation (one primary-key
read, at most every ``[mapping] versions_check_seconds``) and, when it moved, loads the active
versions and recompiles only the templates that changed. A job in flight keeps the templates
it started with.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from payledger.engine.jobs import BatchHandler, Handler, Job
from payledger.mapping import CompiledTemplate, Template, compile_template
from payledger.stores.template_versions import SqlTemplateVersions
from payledger.stores.template_versions_model import SEED, parse_version, version_label


class TemplatesInForce:
    """The seeds (``load_seeds``) overlaid with the active versions of ``store``.

    Args:
        load_seeds: the seed templates by name (version 0).
        values: what templates read as ``settings.*``.
        check_seconds: how long a generation check holds before the next one.
    """

    def __init__(
        self,
        load_seeds: Callable[[], dict[str, Template]],
        store: SqlTemplateVersions,
        values: Mapping[str, Any],
        *,
        check_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_seeds, self.store, self.values = load_seeds, store, values
        self.check_seconds, self._monotonic = check_seconds, monotonic
        self._seeds: dict[str, Template] | None = None
        self._active: dict[str, tuple[int, Template]] = {}
        self._generation: int | None = None
        self._checked_at: float | None = None
        self._compiled: dict[str, CompiledTemplate] = {}
        self._lock = asyncio.Lock()

    def templates(self) -> dict[str, Template]:
        """Every template in force by name (the dict is the caller's)."""
        found = dict(self._seeds_once())
        found.update((name, template) for name, (_v, template) in self._active.items())
        return found

    def version(self, name: str) -> int:
        """The version of ``name`` in force here (0: the seed)."""
        return self._active[name][0] if name in self._active else SEED

    def versions(self, names: Sequence[str]) -> dict[str, str]:
        """The labels (``name@3``, ``name@default``) of ``names`` as in force here."""
        return {name: version_label(name, self.version(name)) for name in names}

    def compiled(self, name: str) -> CompiledTemplate:
        """``name`` as in force, compiled once per version."""
        label = version_label(name, self.version(name))
        compiled = self._compiled.get(label)
        if compiled is None:
            compiled = compile_template(self.templates()[name], self.values)
            self._compiled[label] = compiled
        return compiled

    async def pinned(self, name: str, version: int) -> CompiledTemplate:
        """``version`` of ``name`` compiled, whether in force or not (replaying the original)."""
        label = version_label(name, version)
        compiled = self._compiled.get(label)
        if compiled is None:
            if version == SEED:
                template = self._seeds_once()[name]
            else:
                saved = await self.store.get(name, version)
                template = parse_version(name, saved.body, label)
            compiled = self._compiled[label] = compile_template(template, self.values)
        return compiled

    async def refresh(self, *, force: bool = False) -> bool:
        """Pick up activations made anywhere since the last check; True if anything changed.

        Without ``force`` this costs nothing until ``check_seconds`` passed since the last
        check, then one read of the generation; the active versions are read only when it
        moved.
        """
        if not force and self._fresh():
            return False
        async with self._lock:
            if not force and self._fresh():
                return False  # another job checked while this one waited
            generation = await self.store.generation()
            self._checked_at = self._monotonic()
            if generation == self._generation:
                return False
            await self._load_active()
            self._generation = generation
            return True

    def _fresh(self) -> bool:
        checked = self._checked_at
        return checked is not None and self._monotonic() - checked < self.check_seconds

    async def _load_active(self) -> None:
        active: dict[str, tuple[int, Template]] = {}
        for name, saved in (await self.store.active()).items():
            kept = self._active.get(name)
            if kept is not None and kept[0] == saved.version:
                active[name] = kept
            else:
                active[name] = (saved.version, parse_version(name, saved.body, saved.label))
        self._active = active

    def _seeds_once(self) -> dict[str, Template]:
        if self._seeds is None:
            self._seeds = self._load_seeds()
        return self._seeds


def refreshing(handlers: Mapping[str, Handler], templates: TemplatesInForce) -> dict[str, Handler]:
    """The same handlers, each first bringing ``templates`` up to date (a cached check)."""

    def wrap(handler: Handler) -> Handler:
        async def run(job: Job) -> None:
            await templates.refresh()
            await handler(job)

        return run

    return {kind: wrap(handler) for kind, handler in handlers.items()}


def refreshing_batches(
    handlers: Mapping[str, BatchHandler], templates: TemplatesInForce
) -> dict[str, BatchHandler]:
    """The same for batch handlers: one check per claim round."""

    def wrap(handler: BatchHandler) -> BatchHandler:
        async def run(jobs: Sequence[Job]) -> Mapping[int, BaseException | None]:
            await templates.refresh()
            return await handler(jobs)

        return run

    return {kind: wrap(handler) for kind, handler in handlers.items()}
