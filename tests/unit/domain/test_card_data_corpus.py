"""The card detector's false-positive rate on realistic non-card data stays under its bound.

Measured with ``payledger bench pan`` (seed 2026): 0.33% overall on 28,000 items, 0.30% on
140,000; every flagged item is a run of unrelated numbers that happens to pass brand and Luhn
(two phone numbers side by side, a list of transaction ids, a grouped 20-digit reference or
USPS tracking number). The bounds below leave room for the seed's luck, not for a regression.
"""

from __future__ import annotations

import re

from typer.testing import CliRunner

from payledger.bench.card_corpus import CATEGORIES, non_card_corpus
from payledger.bench.card_detector import false_positives
from payledger.cli.main import app
from payledger.domain.card_data import find_card_numbers

OVERALL_BOUND = 0.005
"""The documented bound: fewer than 1 item in 200 of the corpus is flagged."""
CATEGORY_BOUND = 0.025
NEVER_FLAGGED = {
    "uuid", "timestamp", "IBAN", "amount", "amount list", "date", "IP address",
    "order/invoice number", "D365 RecId", "log line",
}  # fmt: skip
"""Categories read as non-card data by rule (card_data.NOT_CARD_DATA) or too short to hold one."""


def test_the_false_positive_rate_stays_under_the_documented_bound():
    rates = false_positives(500)
    items = sum(c.items for c in rates)
    flagged = sum(len(c.flagged) for c in rates)
    assert items == 500 * len(CATEGORIES) >= 7_000
    assert flagged / items < OVERALL_BOUND, [(c.category, c.flagged) for c in rates]
    for c in rates:
        assert c.rate < CATEGORY_BOUND, (c.category, c.flagged)
        if c.category in NEVER_FLAGGED:
            assert c.flagged == [], c.category


def test_the_corpus_is_the_same_for_the_same_seed_and_covers_every_category():
    assert non_card_corpus(50, seed=7) == non_card_corpus(50, seed=7)
    assert non_card_corpus(50, seed=7) != non_card_corpus(50, seed=8)
    corpus = non_card_corpus(200)
    assert set(corpus) == set(CATEGORIES)
    assert all(len(set(items)) > 100 for items in corpus.values())  # varied, not one item


def test_what_the_corpus_holds_reads_as_its_category():
    corpus = non_card_corpus(300)
    assert any(item.count("-") == 4 and len(item) == 36 for item in corpus["uuid"])
    assert any("T" in item and "." in item and "+" in item for item in corpus["timestamp"])
    assert any(len(item) >= 20 and item.isdigit() for item in corpus["bank/ACH reference"])
    assert any(item.startswith("+49") for item in corpus["phone number"])
    assert any(item.count(",") >= 3 for item in corpus["amount list"])
    # a flagged item is a real candidate run, not a detector fault on a category
    flagged = [item for c in false_positives(300) for item in c.flagged]
    assert flagged and all(find_card_numbers(item) for item in flagged)


def test_bench_pan_prints_the_rate_per_category_overall_and_the_redaction_speed():
    args = ["bench", "pan", "--per-category", "40", "--lines", "200"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for category in CATEGORIES:
        assert category in result.output
    assert re.search(r"overall\s+│\s+560\s+│\s+\d+\s+│\s+\d+\.\d\d%", result.output)
    for text in ("typical JSON log lines", "without digits", "with a card number"):
        assert re.search(rf"{text}\s+│\s+\d+\s+│\s+[\d,]+", result.output), text
