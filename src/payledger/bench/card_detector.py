"""``payledger bench pan``: how often the card detector cries wolf, and what it costs a log line.

The false-positive rate is the share of a generated corpus of realistic non-card data
(``bench/card_corpus.py``) that the detector flags, per category and overall. The speed is
``redact_card_numbers`` calls per second, as ``logs.py`` makes one per log line: on typical
JSON log lines, on text without digits (the pre-check's fast path) and on lines that do carry a
card (the full path, masking included).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from payledger.bench.card_corpus import non_card_corpus, typical_log_lines
from payledger.domain.card_data import holds_card_data, luhn_valid, redact_card_numbers


@dataclass(frozen=True)
class CategoryRate:
    category: str
    items: int
    flagged: list[str]

    @property
    def rate(self) -> float:
        return len(self.flagged) / self.items if self.items else 0.0


@dataclass(frozen=True)
class Speed:
    text: str
    mean_chars: float
    per_second: float


@dataclass(frozen=True)
class CardDetectorBenchResult:
    categories: list[CategoryRate]
    speeds: list[Speed]

    @property
    def items(self) -> int:
        return sum(c.items for c in self.categories)

    @property
    def rate(self) -> float:
        return sum(len(c.flagged) for c in self.categories) / self.items if self.items else 0.0


def false_positives(per_category: int, *, seed: int = 2026) -> list[CategoryRate]:
    """Per category of the non-card corpus: the items the detector flags."""
    corpus = non_card_corpus(per_category, seed=seed)
    return [
        CategoryRate(name, len(items), [item for item in items if holds_card_data(item)])
        for name, items in corpus.items()
    ]


def bench_card_detector(
    per_category: int, *, seed: int = 2026, lines: int = 2_000, repeat: int = 3
) -> CardDetectorBenchResult:
    """The false-positive rates, then the redaction speed on three kinds of text (best of
    ``repeat`` timed passes over ``lines`` texts each)."""
    logs = typical_log_lines(lines, seed=seed)
    no_digits = [line.translate(_NO_DIGITS) for line in logs]
    # generated, not a literal: a Luhn-valid Visa number per line, as a careless caller logs it
    with_card = [f'{line[:-1]}, "note": "paid {_visa(i)} 12/30"}}' for i, line in enumerate(logs)]
    speeds = [
        Speed(label, sum(map(len, texts)) / len(texts), _calls_per_second(texts, repeat))
        for label, texts in [
            ("typical JSON log lines", logs),
            ("the same lines without digits", no_digits),
            ("the same lines with a card number", with_card),
        ]
    ]
    return CardDetectorBenchResult(false_positives(per_category, seed=seed), speeds)


_NO_DIGITS = str.maketrans("0123456789", "abcdefghij")


def _visa(serial: int) -> str:
    body = f"4{serial:014d}"
    return next(body + check for check in "0123456789" if luhn_valid(body + check))


def _calls_per_second(texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            redact_card_numbers(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best if best > 0 else float("inf")
