"""Notice templates: every kind in every language, the amount with its currency, the link in
all but ``recovered``, HTML escaped, and a configured folder overriding a built-in file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payledger.domain.card_links import new_link
from payledger.domain.dunning import (
    Attempt,
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    DunningCase,
    NoticeKind,
)
from payledger.domain.errors import ConfigError
from payledger.domain.money import Money
from payledger.flows.ports.notices import Contact, Notice
from payledger.notices import NoticeTemplates, format_money

AT = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)
CASE = DunningCase(
    id=7,
    source=CaseSource.API,
    source_key="api:1",
    invoice_number="INV-<7>",
    customer_account="US-001",
    vault_customer_id="c",
    amount=Money.of("1234.5"),
    status=CaseStatus.RETRY_SCHEDULED,
    opened_at=AT,
    next_attempt_at=AT + timedelta(days=1),
    attempts=(Attempt(0, AT, AttemptOutcome.DECLINED),),
)
LINK = "https://pay.example.com/pay/abc"


def notice(kind: NoticeKind) -> Notice:
    link = None if kind is NoticeKind.RECOVERED else new_link(7, AT + timedelta(days=14))
    return Notice(1, 7, kind, 0, "<id@x>", link, 0)


def templates(**kw: object) -> NoticeTemplates:
    return NoticeTemplates(merchant="Contoso", language="en", timezone="America/Los_Angeles", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_is_written_in_every_language(language, kind):
    email = templates().write(CASE, notice(kind), Contact("Ann", "a@x", language), LINK)

    assert "INV-<7>" in email.subject and "\n" not in email.subject
    assert "INV-<7>" in email.text and "INV-&lt;7&gt;" in email.html
    assert f'<html lang="{language}">' in email.html
    assert format_money(CASE.amount, language) in email.text
    has_link = kind is not NoticeKind.RECOVERED
    assert (LINK in email.text) is has_link
    assert (f'href="{LINK}"' in email.html) is has_link


def test_the_retry_notice_names_the_local_day_of_the_next_attempt():
    email = templates().write(CASE, notice(NoticeKind.RETRY_SCHEDULED), Contact("A", "a@x"), LINK)
    assert "2026-05-05" in email.text


def test_money_is_written_the_languages_way():
    assert format_money(Money.of("1234.5"), "en") == "$1,234.50"
    assert format_money(Money.of("1234.5", "EUR"), "en") == "1,234.50 EUR"
    assert format_money(Money.of("1234.5"), "es") == "1.234,50 USD"
    assert format_money(Money(Decimal("1500"), "JPY"), "en") == "1,500 JPY"


def test_an_unknown_language_falls_back_to_the_default():
    email = templates().write(CASE, notice(NoticeKind.RECOVERED), Contact("A", "a@x", "fr"), "")
    assert email.subject == "Payment received for invoice INV-<7>"


def test_a_file_in_the_configured_folder_replaces_the_built_in_one(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en/recovered.subject.txt").write_text("Merci {{ customer }}: {{ amount }}")

    email = templates(folder=tmp_path).write(
        CASE, notice(NoticeKind.RECOVERED), Contact("Ann", "a@x"), ""
    )

    assert email.subject == "Merci Ann: $1,234.50"
    assert "Thank you" in email.text  # the other parts stay built in


def test_a_missing_folder_or_language_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="templates_dir"):
        templates(folder=tmp_path / "nope")
    with pytest.raises(ConfigError, match="no templates for 'xx'"):
        NoticeTemplates(merchant="C", language="xx", timezone="UTC")
