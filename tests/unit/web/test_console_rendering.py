"""Console sessions are signed and expire; pages escape every value and mask card numbers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jinja2

from payledger.web.console.render import age, templates, when
from payledger.web.console.session import Session, decode_session, encode_session

NOW = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
KEY = b"k" * 32


def test_a_session_round_trips_and_holds_no_token():
    session = Session.open("ops", 7, can_operate=True, now=NOW)
    cookie = encode_session(session, KEY)
    assert decode_session(cookie, KEY, now=NOW + timedelta(hours=1)) == Session(
        "ops", 7, True, session.expires_at.replace(microsecond=0), session.csrf
    )


def test_a_session_is_refused_when_forged_signed_with_another_key_or_expired():
    cookie = encode_session(Session.open("viewer", 1, can_operate=False, now=NOW), KEY)
    body, signature = cookie.split(".")
    document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert document["o"] is False
    promoted = base64.urlsafe_b64encode(json.dumps({**document, "o": True}).encode()).decode()
    assert decode_session(f"{promoted.rstrip('=')}.{signature}", KEY, now=NOW) is None
    assert decode_session(cookie, b"other" * 8, now=NOW) is None
    assert decode_session(cookie, KEY, now=NOW + timedelta(hours=9)) is None
    assert decode_session("garbage", KEY, now=NOW) is None


def render(source: str, **values) -> str:
    environment: jinja2.Environment = templates.env
    return environment.from_string(source).render(**values)


def test_values_are_escaped_and_card_numbers_masked_before_any_page_shows_them():
    shown = render("<p>{{ error }}</p>", error="<b>refused</b> card 4111 1111 1111 1111")
    assert shown == "<p>&lt;b&gt;refused&lt;/b&gt; card [card ****1111]</p>"
    assert render("{{ nothing }}", nothing=None) == ""


def test_times_and_ages_read_as_people_say_them():
    assert when(NOW) == "2026-03-24 17:00:00 UTC"
    assert when("2026-03-24T10:00:00-07:00") == "2026-03-24 17:00:00 UTC"
    assert [age(s) for s in (5, 125, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "5 s",
        "2 min",
        "3 h 5 min",
        "2 d 4 h",
    ]
