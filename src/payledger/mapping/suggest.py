"""Ranked source candidates for target fields, each with a score and the reason for it.

Signals, in the order they weigh (docs/mapping.md §11):

* **names**: the target's and the source path's words folded onto shared concepts
  (:mod:`payledger.mapping.suggest_words`): ``PaymentId`` ↔ ``payment.gateway_txn_id``;
* **what other templates map**: the same target field mapped from this path elsewhere;
* **value profile**: sample values look like what the target wants (a date, an amount, an ISO
  currency, a masked card, an e-mail, a ZIP code, a country);
* **type and length**: the source's type can be written to the target and its values fit;
* **the record**: the source's section is what the entity is about (``line`` for order lines).

Pure: no I/O, so the console and ``payledger mapping suggest`` share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from payledger.mapping.schema import FieldType, accepts
from payledger.mapping.suggest_fields import KnownMappings, SourceField, TargetField
from payledger.mapping.suggest_profiles import Profile, expected_profile, profile_fit
from payledger.mapping.suggest_words import concepts, weight
from payledger.mapping.suggest_words import words as words_of

SAME_NAME = 1.2
"""The name score of a source whose last segment has the target's very words."""

__all__ = ["Candidate", "KnownMappings", "SourceField", "TargetField", "suggest"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A source path proposed for a target field."""

    source: str
    score: float
    """0..1, higher is better; comparable within one target field."""
    reason: str


@dataclass(frozen=True, slots=True)
class _Source:
    field: SourceField
    leaf: tuple[str, ...]
    words: tuple[str, ...]
    section: tuple[str, ...]
    longest: int


def suggest(
    targets: Sequence[TargetField],
    sources: Sequence[SourceField],
    known: KnownMappings | None = None,
    top: int = 3,
    *,
    entity: str = "",
) -> dict[str, list[Candidate]]:
    """The ``top`` candidates for each target field, best first.

    Args:
        targets: the fields to fill.
        sources: the document paths seen in samples.
        known: what other templates map (leave the one being built out of it).
        top: candidates per field.
        entity: the target entity's name; a source whose section it names ranks higher.
    """
    prepared = [_prepare(source) for source in sources]
    about = set(concepts(entity))
    found = {}
    for target in targets:
        scored = [_score(target, source, known or KnownMappings(), about) for source in prepared]
        scored.sort(key=lambda c: (-c.score, c.source))
        found[target.name] = scored[:top]
    return found


def _prepare(source: SourceField) -> _Source:
    *section, leaf = source.path.split(".")
    longest = max((len(str(v)) for v in source.values if not isinstance(v, list)), default=0)
    return _Source(
        source,
        concepts(leaf),
        words_of(leaf),
        tuple(c for s in section for c in concepts(s)),
        longest,
    )


def _score(
    target: TargetField, source: _Source, known: KnownMappings, about: set[str]
) -> Candidate:
    wanted = concepts(target.name)
    reasons: list[str] = []
    name = _name_score(wanted, target.name, source, reasons)
    fit = _type_score(target, source, reasons)
    profile = _profile_score(wanted, target, source, reasons)
    record = 0.1 if about.intersection(source.section) else 0.0
    score = 0.55 * name + 0.15 * fit + 0.2 * profile + record + 0.05 * source.field.seen
    templates = known.templates_mapping(target.name, source.field.path)
    if templates:
        score += (1 - score) * 0.6
        reasons.append(f"mapped to {target.name} by template {', '.join(templates)}")
    score = min(max(score / 1.05, 0.0), 1.0)
    return Candidate(source.field.path, round(score, 3), "; ".join(reasons) or "no signal")


def _name_score(wanted: tuple[str, ...], target: str, source: _Source, reasons: list[str]) -> float:
    if not wanted:
        return 0.0
    total = sum(map(weight, wanted))
    matched, words = 0.0, []
    for concept in wanted:
        if concept in source.leaf:
            matched += weight(concept)
            words.append(concept)
        elif concept in source.section:
            matched += 0.6 * weight(concept)
            words.append(concept)
    leaf_total = sum(map(weight, source.leaf)) or 1.0
    precision = sum(weight(c) for c in source.leaf if c in wanted) / leaf_total
    score = 0.7 * matched / total + 0.3 * precision
    if words_of(target) == source.words:
        reasons.append("same name")
        return SAME_NAME
    if words:
        reasons.append(f"name: {', '.join(words)} ({score:.0%})")
    return score


def _type_score(target: TargetField, source: _Source, reasons: list[str]) -> float:
    produced = source.field.type
    if accepts(target.type, produced):
        fit = 1.0
    elif target.type is FieldType.STRING and produced is FieldType.LIST:
        fit = 0.9  # lines of text: join_lines or address_line picks them
    elif produced in _CONVERTIBLE.get(target.type, set()):
        fit = 0.6
    else:
        reasons.append(f"{produced.value} cannot fill a {target.type.value} field")
        return -0.5
    if target.max_length is not None and source.longest > target.max_length:
        reasons.append(
            f"values up to {source.longest} characters, the field holds {target.max_length}"
        )
        return -0.5
    how = "fits" if fit == 1.0 else "converts to"
    room = f" of {target.max_length}" if target.max_length else ""
    reasons.append(f"{produced.value} {how} {target.type.value}{room}")
    return fit


_CONVERTIBLE = {
    FieldType.ENUM: {FieldType.BOOLEAN},
    FieldType.DATE: {FieldType.DATETIME},
    FieldType.DATETIME: {FieldType.DATE},
    FieldType.STRING: {FieldType.INTEGER, FieldType.DECIMAL},
    FieldType.DECIMAL: {FieldType.STRING},
    FieldType.INTEGER: {FieldType.DECIMAL, FieldType.STRING},
}
"""Source types a standard transform turns into the target's (yes_no, d365_date, join_lines,
to_text, to_decimal...)."""


def _profile_score(
    wanted: tuple[str, ...], target: TargetField, source: _Source, reasons: list[str]
) -> float:
    expected = expected_profile(wanted, target.type)
    found = source.field.profile
    fit = profile_fit(expected, found)
    if fit > 0 and found is not None:
        reasons.append(f"values look like {found.value}")
    elif fit < 0 and expected is not None and found is not None:
        reasons.append(f"values look like {found.value}, not {expected.value}")
    if found is Profile.MASKED_CARD and expected is not Profile.MASKED_CARD:
        fit -= 1.0  # card data goes nowhere it was not asked for
    return fit
