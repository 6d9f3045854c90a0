"""Card-update link tokens: signed, expiring, and never read as a card number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payledger.domain.card_links import (
    LinkExpired,
    LinkInvalid,
    form_token,
    new_link,
    read_link,
    same_form,
    sign_link,
)
from payledger.domain.card_numbers import find_card_numbers

KEY = b"k" * 32
NOW = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)


def test_a_signed_link_reads_back_until_it_expires():
    link = new_link(42, NOW + timedelta(days=14))
    token = sign_link(link, KEY)

    assert read_link(token, KEY, NOW) == link
    with pytest.raises(LinkExpired):
        read_link(token, KEY, NOW + timedelta(days=14))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("42z", "43z", 1),  # another case
        lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # the signature
        lambda t: t[: len(t) // 2],  # cut short
        lambda t: "",
    ],
)
def test_a_tampered_link_is_refused(tamper):
    token = sign_link(new_link(42, NOW + timedelta(days=1)), KEY)
    with pytest.raises(LinkInvalid):
        read_link(tamper(token), KEY, NOW)


def test_a_link_signed_with_another_key_is_refused():
    token = sign_link(new_link(42, NOW + timedelta(days=1)), b"other-key")
    with pytest.raises(LinkInvalid):
        read_link(token, KEY, NOW)


def test_each_link_has_its_own_nonce_and_no_digit_run_like_a_card():
    tokens = [sign_link(new_link(4111111, NOW + timedelta(days=1)), KEY) for _ in range(200)]
    assert len({t.split("z")[2] for t in tokens}) == 200
    assert all(find_card_numbers(t) == [] for t in tokens)


def test_the_form_token_belongs_to_its_link():
    first = sign_link(new_link(1, NOW + timedelta(days=1)), KEY)
    second = sign_link(new_link(1, NOW + timedelta(days=1)), KEY)
    assert same_form(form_token(first, KEY), first, KEY)
    assert not same_form(form_token(second, KEY), first, KEY)
