"""Finding card numbers (PANs) and track data in any text, to refuse, redact or report them.

A card number is 13-19 digits that pass the Luhn check *and* start with a known brand prefix at a
length that brand issues: Luhn alone is too weak (one random digit string in ten passes), so the
brand table keeps order numbers, amounts and timestamps out. One detector serves the web guard,
the domain checks, log redaction and ``payledger scan-pan``. It finds a card inside any text,
whatever its neighbours and separators:

1. The text is normalised: NFKC per character (full-width, circled and superscript digits,
   no-break and ideographic spaces become plain), then every Unicode decimal digit (Arabic-Indic,
   Devanagari, ...) becomes its ASCII digit.
2. It is cut into digit *groups*. A *run* is a sequence of groups, each separated from the next
   by a gap of 1 to ``MAX_GAP`` (3) separator characters. A separator is any character that is
   neither a letter nor a digit nor a list separator (``,`` ``;``): whitespace of every kind
   (tab, no-break space), the hyphen, en and em dashes, ``. _ / \\ : | + * ' " # ( ) [ ]``,
   invisible ones such as the zero-width space, and the like. A letter, a list separator or a
   longer gap ends a run.
3. Every contiguous sequence of groups in a run holding 13-19 digits in all is a candidate, so a
   card is found whatever group stands before or after it ("2 4111...", "4111... 12/30"). A group
   is never split: digits glued to a card make another number, so a single group of more than
   19 digits (a bank or ACH reference) is neither a card nor part of one, while a card followed
   by a separator and more digits is found.
4. What ``NOT_CARD_DATA`` matches (UUIDs, hex digests, IPv4 addresses, dates and times, IBANs,
   an amount's cents) is read as letters, so that realistic data is not taken for cards:
   ``payledger bench pan`` measures what is still flagged (0.24% of its corpus).

Track data is recognised by its sentinel layout (``%B<pan>^``, ``;<pan>=<yymm>``). Checks are
cheapest first, as log redaction runs on every log line: fewer than 12 digits, or no run of 13,
and a text is done with.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

MIN_DIGITS, MAX_DIGITS = 13, 19
MAX_GAP = 3
"""Most separator characters between two digit groups of one run."""

_GROUP = re.compile(r"[0-9]+")
_SEPARATOR = r"(?:[^\w,;]|_)"
"""Neither a letter nor a digit, nor a list separator: ``,`` and ``;`` part items of a list
(transaction ids, amounts), not the groups of one number."""
_RUN = re.compile(rf"[0-9]+(?:{_SEPARATOR}{{1,{MAX_GAP}}}[0-9]+)*")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]{1,9})?)?"
_ZONE = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])"
_DAY, _MONTH = r"(?:0?[1-9]|[12][0-9]|3[01])", r"(?:0?[1-9]|1[0-2])"
NOT_CARD_DATA = re.compile(
    "|".join(
        [
            r"(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-])",
            r"(?<![0-9A-Za-z])(?=[0-9]*[a-f])(?:[0-9a-f]{128}|[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})"
            r"(?![0-9A-Za-z])",
            rf"(?<![0-9.])(?:{_OCTET}\.){{3}}{_OCTET}(?![0-9]|\.[0-9])",
            rf"(?<![0-9])[12][0-9]{{3}}-{_MONTH}-{_DAY}(?:[T ]{_TIME}{_ZONE}?)?(?![0-9])",
            rf"(?<![0-9/]){_MONTH}/{_DAY}/[12][0-9]{{3}}(?![0-9])",
            rf"(?<![0-9.])(?:{_DAY}\.{_MONTH}\.[12][0-9]{{3}})(?![0-9])",
            r"(?<=[0-9])[.,][0-9]{2}(?![0-9]|[.,][0-9])",
            r"(?P<iban>(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)"
            r"(?![0-9A-Za-z])",
        ]
    )
)
"""What is never a card number, though its digits could pass for one: canonical UUIDs (about
one random UUID in 3,000 holds such a run), lowercase hex digests of 32, 40, 64 or 128
characters (payledger's own token hashes and body fingerprints: about one SHA-256 in 2,000
holds such a run), IPv4 addresses, ISO 8601 dates and times, US and
European dates, IBANs with a valid check, and the two-digit fraction of an amount, which ends a
run (``12.50, 3.75, 4,500.00`` are three amounts, not a 13-digit candidate). Each is read as
letters. A card beside one of them is still found; only a card laid out on purpose to look like
one (``dddd.dd dddd dddd dd``: cents in the middle) is not, as no reader of digit runs can
promise otherwise.
"""
_TRACK_DATA = re.compile(r"%B\d{12,19}\^(?:[^^\n]{0,26}\^[0-9]*)?\??|;\d{12,19}=\d{4}[0-9]*\??")
"""Track 1 (``%B<pan>^NAME^<expiry, service code, discretionary data>?``) and track 2
(``;<pan>=<expiry...>?``), masked whole as ``[track data]``."""
_TRACK_MIN_DIGITS = 12

# (first digits low, high, allowed lengths) per brand; prefixes compared on equal length.
BRANDS: tuple[tuple[str, str, range | tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("6011", "6011", range(16, 20)),  # Discover
    ("644", "649", range(16, 20)),
    ("65", "65", range(16, 20)),
    ("622126", "622925", range(16, 20)),
    ("3528", "3589", range(16, 20)),  # JCB
    ("300", "305", range(14, 20)),  # Diners Club
    ("36", "36", range(14, 20)),
    ("38", "39", range(16, 20)),
    ("62", "62", range(16, 20)),  # UnionPay
    ("50", "50", range(13, 20)),  # Maestro
    ("56", "58", range(13, 20)),
    ("67", "67", range(13, 20)),
)
_FIRST_DIGITS = frozenset(low[0] for low, _, _ in BRANDS)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_SHORT_PREFIXES = [(low, high, lengths) for low, high, lengths in BRANDS if len(low) <= 4]
_LONG_PREFIXES = [(low, high, lengths) for low, high, lengths in BRANDS if len(low) > 4]
_PARTLY_LONG = {
    str(n)[:4] for low, high, _ in _LONG_PREFIXES for n in range(int(low), int(high) + 1)
}
_LENGTHS_BY_FOUR: dict[str, tuple[int, ...]] = {}
"""Card lengths by first four digits, filled as met (at most 10,000 entries)."""


def _card_lengths(prefix: str) -> tuple[int, ...]:
    """The lengths a card may have whose first six digits are ``prefix``."""
    four = prefix[:4]
    lengths = _LENGTHS_BY_FOUR.get(four)
    if lengths is None:
        lengths = _LENGTHS_BY_FOUR[four] = _lengths(four, _SHORT_PREFIXES)
    if four in _PARTLY_LONG:  # "6221".."6229": Discover's six-digit range decides
        lengths = tuple(sorted({*lengths, *_lengths(prefix, _LONG_PREFIXES)}))
    return lengths


def _lengths(
    prefix: str, brands: list[tuple[str, str, range | tuple[int, ...]]]
) -> tuple[int, ...]:
    found = {
        n for low, high, lengths in brands if low <= prefix[: len(low)] <= high for n in lengths
    }
    return tuple(sorted(found))


def mask(digits: str) -> str:
    return f"[card ****{digits[-4:]}]"


@dataclass(frozen=True)
class _Card:
    """A card number found in normalised text: its digits, span and groups within its run."""

    digits: str
    start: int
    end: int
    first: int
    last: int


class _NormalForm(dict[int, str]):
    """``str.translate`` table: a character to its NFKC form, decimal digits made ASCII."""

    def __missing__(self, code: int) -> str:
        form = "".join(
            str(digit) if (digit := unicodedata.decimal(char, None)) is not None else char
            for char in unicodedata.normalize("NFKC", chr(code))
        )
        if len(self) < 20_000:  # an attacker sending every code point must not grow it forever
            self[code] = form
        return form


_NORMAL_FORM = _NormalForm()


def _normalised(text: str) -> str | None:
    """``text`` as the detector reads it, or None when it cannot hold card data.

    Cheap tests come first, as log redaction runs on every log line: too few digits, or no run
    long enough for a card (a typical log line), and the text is done with.
    """
    if not text.isascii():
        text = text.translate(_NORMAL_FORM)
    if _digit_count(text) < _TRACK_MIN_DIGITS:
        return None
    long_runs = [
        run.span()
        for run in _RUN.finditer(text)
        if run.end() - run.start() >= MIN_DIGITS and _digit_count(run.group()) >= MIN_DIGITS
    ]
    if long_runs:
        return _without_other_data(text, long_runs)
    return text if _TRACK_DATA.search(text) else None


def _digit_count(text: str) -> int:
    return sum(map(text.count, "0123456789"))


_REACH = 64
"""Longer than anything NOT_CARD_DATA matches (an IBAN with spaces is 42 characters)."""


def _without_other_data(text: str, runs: list[tuple[int, int]]) -> str:
    """``text`` with what NOT_CARD_DATA matches over a long run turned into letters. Only the
    surroundings of the runs are searched: elsewhere, nothing could change a card."""
    windows: list[list[int]] = []
    for start, end in runs:
        if windows and start - _REACH <= windows[-1][1]:
            windows[-1][1] = end + _REACH
        else:
            windows.append([max(0, start - _REACH), end + _REACH])
    parts, kept, next_run = [], 0, 0
    for low, high in windows:
        for match in NOT_CARD_DATA.finditer(text, low, high):
            start, end = match.span()
            while runs[next_run][1] <= start and next_run < len(runs) - 1:
                next_run += 1  # runs and matches both go left to right
            if runs[next_run][0] < end and start < runs[next_run][1] and _not_a_card(match):
                parts += [text[kept:start], "x" * (end - start)]
                kept = end
    return "".join([*parts, text[kept:]])


def _not_a_card(match: re.Match[str]) -> bool:
    return not match.group("iban") or _iban_valid(match.group("iban"))


def _iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "")
    return int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1


def _runs(text: str) -> Iterator[list[_Card]]:
    """For each run of digit groups in normalised ``text``: every card number inside it."""
    for run in _RUN.finditer(text):
        if run.end() - run.start() >= MIN_DIGITS:
            spans = [group.span() for group in _GROUP.finditer(text, run.start(), run.end())]
            digits = "".join(text[start:end] for start, end in spans)
            if len(digits) >= MIN_DIGITS and (cards := _cards(spans, digits)):
                yield cards


def _cards(spans: list[tuple[int, int]], digits: str) -> list[_Card]:
    """The cards among the groups (``spans``) of one run whose digits are ``digits``.

    Each group start is tried once with each length its brand prefix allows, and Luhn sums come
    from prefix sums: a megabyte of one-digit groups is read in about a second, not ten.
    """
    ends = list(accumulate(end - start for start, end in spans))
    last_group = dict(zip(ends, range(len(ends)), strict=True))
    odd_end, even_end = _luhn_prefix_sums(digits)
    limit = len(digits) - MIN_DIGITS
    cards = []
    for first, offset in enumerate([0, *ends[:-1]]):
        if offset > limit:
            break
        if digits[offset] not in _FIRST_DIGITS:
            continue
        for length in _card_lengths(digits[offset : offset + 6]):
            end = offset + length
            last = last_group.get(end)
            sums = odd_end if end % 2 else even_end
            if last is not None and (sums[end] - sums[offset]) % 10 == 0:
                number = digits[offset:end]
                cards.append(_Card(number, spans[first][0], spans[last][1], first, last))
    return cards


_PLAIN = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))


def _luhn_prefix_sums(digits: str) -> tuple[list[int], list[int]]:
    """Prefix sums giving the Luhn sum of any slice ``digits[a:b]`` as ``sums[b] - sums[a]``:
    the first for an odd ``b``, the second for an even one. The last digit of a card is never
    doubled, so which positions are doubled follows the parity of its end."""
    raw = digits.encode("ascii")
    plain, doubled = raw.translate(_PLAIN), raw.translate(_DOUBLED)
    odd_end, even_end = bytearray(plain), bytearray(doubled)  # b odd: even positions plain
    odd_end[1::2], even_end[1::2] = doubled[1::2], plain[1::2]
    return [0, *accumulate(odd_end)], [0, *accumulate(even_end)]


def _cover(cards: list[_Card]) -> list[_Card]:
    """Non-overlapping cards of one run to mask: fewest groups first, so neighbours stay."""
    taken: set[int] = set()
    chosen = []
    for card in sorted(cards, key=lambda c: (c.last - c.first, c.first)):
        groups = range(card.first, card.last + 1)
        if taken.isdisjoint(groups):
            taken.update(groups)
            chosen.append(card)
    return sorted(chosen, key=lambda c: c.start)


def find_card_numbers(text: str) -> list[str]:
    """Every card number in ``text``, as plain ASCII digits (overlapping candidates included)."""
    normal = _normalised(text)
    if normal is None:
        return []
    return [card.digits for cards in _runs(normal) for card in cards]


def holds_card_data(text: str) -> bool:
    normal = _normalised(text)
    return normal is not None and (
        bool(_TRACK_DATA.search(normal)) or next(_runs(normal), None) is not None
    )


def _redactions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) in ``text`` for its track data and the cards to mask."""
    normal = _normalised(text)
    if normal is None:
        return []
    tracks = [(m.start(), m.end()) for m in _TRACK_DATA.finditer(normal)]
    spans = [(start, end, "[track data]") for start, end in tracks]
    for cards in _runs(normal):
        spans += [
            (card.start, card.end, mask(card.digits))
            for card in _cover(cards)
            if not _inside_track(card, tracks)
        ]
    if not spans or text.isascii():
        return sorted(spans)
    origin = [i for i, char in enumerate(text) for _ in char.translate(_NORMAL_FORM)]
    return sorted((origin[start], origin[end - 1] + 1, new) for start, end, new in spans)


def _inside_track(card: _Card, tracks: list[tuple[int, int]]) -> bool:
    """Whether ``card`` overlaps one of ``tracks`` (sorted, apart), masked whole already."""
    before = bisect_left(tracks, (card.end,)) - 1  # the last track starting before the card ends
    return before >= 0 and tracks[before][1] > card.start


def masked_card_data(text: str) -> list[str]:
    """The card data in ``text`` as redaction shows it: ``[card ****1111]``, ``[track data]``."""
    return [new for _, _, new in _redactions(text)]


_MAX_PASSES = 8


def redact_card_numbers(text: str) -> str:
    """``text`` with every card number and track data masked; everything else is left as is.

    A card's digits, with the separators between its groups, become ``mask(digits)``. A mask
    keeps four digits, which could join the digits after it into another card, so the result is
    redacted again until nothing is found; text built to chain masks on and on is dropped whole.
    """
    for _ in range(_MAX_PASSES):
        spans = _redactions(text)
        if not spans:
            return text
        parts, kept = [], 0
        for start, end, new in spans:
            parts += [text[kept:start], new]
            kept = end
        text = "".join([*parts, text[kept:]])
    return "[redacted: card data]" if _redactions(text) else text
