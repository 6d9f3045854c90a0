"""``bench suggest``: how often the mapping suggester ranks a right source first, or in its top 3.

For each labelled entity (``suggest_labels.yaml``) the suggester gets the entity's target
fields from the sandbox's ``$metadata`` (or the PayTrace targets), the source fields of sample
documents of the flow that fills it, and the mappings of every default template *except* those
targeting that entity (leave-one-template-out). Only this module reads the labels, to score.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from payledger.adapters.d365.catalog import entities_from_metadata
from payledger.adapters.d365.metadata import parse_metadata
from payledger.bench.suggest_samples import sample_documents
from payledger.mapping import EntitySchema, default_templates, example_settings, paytrace_entities
from payledger.mapping.suggest import suggest
from payledger.mapping.suggest_fields import (
    KnownMappings,
    TargetField,
    source_fields,
    target_fields,
)
from payledger.mapping.template import Template
from payledger.mapping.yaml_loader import load_yaml
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365.catalog import build_catalog
from payledger.sandbox.d365.csdl import render_csdl
from payledger.sandbox.d365.settings import default_extension_fields

LABELS = "suggest_labels.yaml"
PAYTRACE = "paytrace:"


@dataclass(frozen=True)
class Miss:
    """A labelled field whose right source was not ranked first."""

    entity: str
    target: str
    expected: tuple[str, ...]
    ranked: tuple[str, ...]


@dataclass(frozen=True)
class EntityScore:
    entity: str
    fields: int
    top1: int
    top3: int


@dataclass(frozen=True)
class SuggestBenchResult:
    """Accuracy per entity and overall, and the time to suggest for one target field."""

    entities: tuple[EntityScore, ...]
    field_ms: tuple[float, ...]
    documents: int
    misses: tuple[Miss, ...] = field(default=())

    @property
    def fields(self) -> int:
        return sum(e.fields for e in self.entities)

    @property
    def top1(self) -> float:
        return sum(e.top1 for e in self.entities) / self.fields if self.fields else 0.0

    @property
    def top3(self) -> float:
        return sum(e.top3 for e in self.entities) / self.fields if self.fields else 0.0

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.field_ms) if self.field_ms else 0.0

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.field_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": self.fields,
            "documents_per_entity": self.documents,
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "ms_per_field": {"mean": round(self.mean_ms, 3), "p99": round(self.p99_ms, 3)},
            "entities": [
                {
                    "entity": e.entity,
                    "fields": e.fields,
                    "top1": round(e.top1 / e.fields, 4) if e.fields else 0.0,
                    "top3": round(e.top3 / e.fields, 4) if e.fields else 0.0,
                }
                for e in self.entities
            ],
            "misses": [
                {"entity": m.entity, "target": m.target, "expected": list(m.expected),
                 "ranked": list(m.ranked)}
                for m in self.misses
            ],
        }  # fmt: skip


def labels() -> dict[str, dict[str, list[str]]]:
    """Entity → target field → right source paths."""
    text = resources.files("payledger.bench").joinpath(LABELS).read_text(encoding="utf-8")
    loaded: dict[str, dict[str, list[str]]] = load_yaml(text)
    return loaded


def run_suggest_bench(documents: int = 40, entities: tuple[str, ...] = ()) -> SuggestBenchResult:
    """Score the suggester on ``documents`` samples per entity (all labelled ones by default)."""
    labelled = labels()
    chosen = entities or tuple(labelled)
    unknown = [name for name in chosen if name not in labelled]
    if unknown:
        raise ValueError(f"no labels for {', '.join(unknown)} (labelled: {', '.join(labelled)})")
    scores, timings, misses = [], [], []
    for entity in chosen:
        answers = labelled[entity]
        targets = [t for t in _targets(entity) if t.name in answers]
        sources = source_fields(sample_documents(entity, documents))
        known = KnownMappings.from_templates(_others(entity), example_settings())
        top1 = top3 = 0
        for target in targets:
            started = time.perf_counter()
            ranked = suggest([target], sources, known, top=3, entity=_name(entity))[target.name]
            timings.append((time.perf_counter() - started) * 1000)
            paths = tuple(c.source for c in ranked)
            right = answers[target.name]
            top1 += bool(paths) and paths[0] in right
            top3 += any(path in right for path in paths)
            if not paths or paths[0] not in right:
                misses.append(Miss(entity, target.name, tuple(right), paths))
        scores.append(EntityScore(entity, len(targets), top1, top3))
    return SuggestBenchResult(tuple(scores), tuple(timings), documents, tuple(misses))


def _name(entity: str) -> str:
    return entity.removeprefix(PAYTRACE)


def _others(entity: str) -> list[Template]:
    """Every default template except those targeting ``entity``: the left-out answers."""
    return [
        template
        for template in default_templates().values()
        if _name(entity) != template.target.entity
    ]


def _targets(entity: str) -> list[TargetField]:
    if entity.startswith(PAYTRACE):
        titles = example_settings()["paytrace"]["discretionary"].values()
        found = {e.name: e for e in paytrace_entities(titles)}[_name(entity)]
        return target_fields(found)
    extensions = default_extension_fields().get(entity, {})
    return target_fields(_sandbox_schema()[entity], extensions)


@cache
def _sandbox_schema() -> dict[str, EntitySchema]:
    """The D365 sandbox's ``$metadata``, read the way the D365 adapter reads a real one."""
    csdl = render_csdl(build_catalog(default_extension_fields()), D365SandboxSettings())
    return {e.name: e for e in entities_from_metadata(parse_metadata(csdl))}
