"""Generated cards of every brand and length, laid out with every supported separator, written in
any Unicode digits and embedded in text between other digit groups, are always found; redaction
leaves no card behind and keeps the text around it."""

from __future__ import annotations

import unicodedata
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from payledger.domain.card_numbers import (
    BRANDS,
    NOT_CARD_DATA,
    find_card_numbers,
    holds_card_data,
    luhn_valid,
    redact_card_numbers,
)

BRAND_LENGTHS = sorted({(low, high, length) for low, high, lengths in BRANDS for length in lengths})
SEPARATORS = [
    " ", "\t", "\u00a0", "\u2009", "\u3000", "\u200b", "-", "\u2010", "\u2013", "\u2014",
    "\u2212", "\uff0d", ".", "\uff0e", "_", "/", "\\", ":", "|", "+", "*", "'", '"',
    "#", "(", ")", "[", "]",
]  # fmt: skip
WHITESPACE = [" ", "\t", "\u00a0", "\u2009", "\u3000"]
DIGITS = [
    "0123456789",
    "".join(chr(0xFF10 + d) for d in range(10)),  # full-width
    "".join(chr(0x0660 + d) for d in range(10)),  # Arabic-Indic
    "".join(chr(0x06F0 + d) for d in range(10)),  # Extended Arabic-Indic
    "".join(chr(0x0966 + d) for d in range(10)),  # Devanagari
    "".join(chr(0x0E50 + d) for d in range(10)),  # Thai
    "".join(chr(0x1D7CE + d) for d in range(10)),  # mathematical bold
    "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079",  # superscript
]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé :", max_size=15)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid number with a brand prefix, at a length that brand issues."""
    low, high, length = draw(st.sampled_from(BRAND_LENGTHS))
    prefix = str(draw(st.integers(int(low), int(high))))
    middle = length - len(prefix) - 1
    body = prefix + draw(st.text("0123456789", min_size=middle, max_size=middle))
    return next(body + check for check in "0123456789" if luhn_valid(body + check))


@st.composite
def written(draw: st.DrawFn, digits: str) -> str:
    """``digits`` written in a mix of Unicode digit scripts."""
    return "".join(DIGITS[draw(st.integers(0, len(DIGITS) - 1))][int(d)] for d in digits)


def gaps(alphabet: list[str]) -> st.SearchStrategy[str]:
    """1 to 3 separators: the longest gap inside a run, as documented in card_data.py."""
    return st.lists(st.sampled_from(alphabet), min_size=1, max_size=3).map("".join)


@st.composite
def spaced_gaps(draw: st.DrawFn) -> str:
    """A gap holding some whitespace, as between a card and the numbers a person writes near it."""
    gap = list(draw(gaps(SEPARATORS)))
    gap[draw(st.integers(0, len(gap) - 1))] = draw(st.sampled_from(WHITESPACE))
    return "".join(gap)


def split(digits: str, cuts: set[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(digits)]
    return [digits[a:b] for a, b in pairwise(bounds)]


def usual_layouts(length: int) -> list[list[int]]:
    """Group sizes as cards are printed and typed: whole, fours, 4-6-rest."""
    fours = [4] * (length // 4) + ([length % 4] if length % 4 else [])
    if fours[-1] < 3:
        fours[-2:] = [fours[-2] + fours[-1]]
    return [[length], fours, *([[4, 6, length - 10]] if length in (14, 15) else [])]


def ascii_twin(text: str) -> str:
    twin = "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c
        for c in unicodedata.normalize("NFKC", text)
    )
    assert len(twin) == len(text)  # every character used here normalises to one character
    return twin


@st.composite
def embedded(draw: st.DrawFn, *, usual: bool) -> tuple[str, str, str, str, tuple[int, int]]:
    """(card, text, prefix, suffix, span of the card in text)."""
    card = draw(card_numbers())
    if usual:
        sizes = draw(st.sampled_from(usual_layouts(len(card))))
        cuts = {sum(sizes[:i]) for i in range(1, len(sizes))}
    else:
        cuts = draw(st.sets(st.integers(1, len(card) - 1), max_size=len(card) - 1))
    groups = [draw(written(group)) for group in split(card, cuts)]
    separator = draw(gaps(SEPARATORS))  # one separator all along, as a person types it
    inner = [separator if usual else draw(gaps(SEPARATORS)) for _ in groups[1:]]
    laid_out = groups[0] + "".join(
        gap + group for gap, group in zip(inner, groups[1:], strict=True)
    )
    neighbour = st.text("0123456789", min_size=1, max_size=25).flatmap(written)
    before, after = draw(st.lists(neighbour, max_size=3)), draw(st.lists(neighbour, max_size=3))
    gap = spaced_gaps() if usual else gaps(SEPARATORS)
    head = "".join(n + draw(gap) for n in before)
    tail = "".join(draw(gap) + n for n in after)
    prefix, suffix = draw(WORDS), draw(WORDS)
    text = f"{prefix} {head}{laid_out}{tail} {suffix}"
    start = len(prefix) + 1 + len(head)
    return card, text, prefix, suffix, (start, start + len(laid_out))


def _redaction_keeps_the_text_around_and_no_card(text: str, prefix: str, suffix: str) -> None:
    redacted = redact_card_numbers(text)
    assert not holds_card_data(redacted)
    assert find_card_numbers(redacted) == []
    assert redacted.startswith(f"{prefix} ") and redacted.endswith(f" {suffix}")


@settings(max_examples=400)
@given(embedded(usual=True))
def test_a_card_laid_out_as_printed_is_always_found_whatever_surrounds_it(case):
    card, text, prefix, suffix, _ = case
    assert card in find_card_numbers(text)
    _redaction_keeps_the_text_around_and_no_card(text, prefix, suffix)


@settings(max_examples=400)
@given(embedded(usual=False))
def test_a_card_in_any_groups_and_separators_is_found_unless_it_reads_as_other_data(case):
    card, text, prefix, suffix, (start, end) = case
    # documented: a UUID, IPv4 address, date, time, IBAN or an amount's cents is read as
    # letters, so a card laid out to look like one of them is not a card (see card_data.py)
    twin = ascii_twin(text)
    assume(not any(m.start() < end and start < m.end() for m in NOT_CARD_DATA.finditer(twin)))
    assert card in find_card_numbers(text)
    _redaction_keeps_the_text_around_and_no_card(text, prefix, suffix)


@given(card_numbers())
def test_every_generated_card_passes_brand_length_and_luhn(card):
    assert find_card_numbers(card) == [card]
    assert redact_card_numbers(card) == f"[card ****{card[-4:]}]"
