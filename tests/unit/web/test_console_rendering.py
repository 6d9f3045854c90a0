"""Console session cookies are signed; pages escape every value and mask card numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2

from payledger.web.console.render import age, templates, when
from payledger.web.console.session import csrf_token, decode_session, encode_session

NOW = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
KEY = b"k" * 32
SESSION_ID = "r4nd0m-s3ss10n-id_of-43-characters-xxxxxxxx"


def test_a_session_cookie_names_its_session_and_nothing_else():
    cookie = encode_session(SESSION_ID, KEY)
    assert decode_session(cookie, KEY) == SESSION_ID
    assert cookie.split(".")[0] == SESSION_ID


def test_a_cookie_is_refused_when_forged_signed_with_another_key_or_garbled():
    cookie = encode_session(SESSION_ID, KEY)
    signature = cookie.split(".")[1]
    assert decode_session(f"other-session.{signature}", KEY) is None
    assert decode_session(cookie, b"other" * 8) is None
    for garbled in ("garbage", ".", f"{SESSION_ID}.", f"é{cookie}", f"{'x' * 200}.{signature}"):
        assert decode_session(garbled, KEY) is None


def test_each_session_has_its_own_form_token():
    token = csrf_token(SESSION_ID, KEY)
    assert token not in (csrf_token("another", KEY), csrf_token(SESSION_ID, b"other" * 8))
    assert token not in encode_session(SESSION_ID, KEY)


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
