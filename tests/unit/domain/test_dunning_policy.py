"""The decline policy: every default pattern classifies the texts processors send, case and
spacing do not matter, and what no pattern knows takes the configured class."""

from __future__ import annotations

import pytest

from payledger.bootstrap.dunning import dunning_policy
from payledger.config import DEFAULT_HARD_DECLINES, DEFAULT_SOFT_DECLINES, Settings
from payledger.domain.dunning import Decline, DeclineClass, DeclineTable, classify

TABLE = dunning_policy(Settings()).table

SOFT_TEXTS = {
    "insufficient funds": "    NSF - Insufficient funds",
    "not sufficient funds": "DECLINE - Not sufficient funds",
    "do not honou?r": "    DECLINE - Do not honor",
    "issuer (is )?(unavailable|not available|inoperative)": "DECLINE - Issuer unavailable",
    "try again": "DECLINE - Please try again",
    "exceeds": "DECLINE - Exceeds withdrawal amount limit",
    "limit exceeded": "DECLINE - Activity limit exceeded",
    "refer to (card )?issuer": "CALL - Refer to card issuer",
    "call issuer": "CALL - Call issuer",
    "processing error": "DECLINE - Processing error",
    "system (error|malfunction)": "DECLINE - System malfunction",
}
HARD_TEXTS = {
    "stolen": "PICKUP - Stolen card",
    "lost": "PICKUP - Lost card",
    "pick ?up": "   PICK UP - Pick up card",
    "invalid account": "DECLINE - Invalid account number",
    "invalid card": "DECLINE - Invalid card number",
    "no such (account|card|issuer)": "DECLINE - No such issuer",
    "closed": "DECLINE - Closed account",
    "expired": "  EXPIRED CARD - Expired card",
    "restricted": "DECLINE - Restricted card",
    "fraud": "DECLINE - Suspected fraud",
    "revo(ked|cation)": "DECLINE - Revocation of authorization order",
    "do not try again": "DECLINE - Do not try again",
    "security violation": "DECLINE - Security violation",
    "not permitted": "DECLINE - Transaction not permitted to cardholder",
}


def test_the_samples_cover_every_default_pattern():
    assert list(SOFT_TEXTS) == DEFAULT_SOFT_DECLINES
    assert list(HARD_TEXTS) == DEFAULT_HARD_DECLINES


@pytest.mark.parametrize("text", SOFT_TEXTS.values())
def test_soft_declines_are_retried(text):
    assert classify(Decline("102", text), TABLE) is DeclineClass.SOFT


@pytest.mark.parametrize("text", HARD_TEXTS.values())
def test_hard_declines_are_not(text):
    assert classify(Decline("102", text), TABLE) is DeclineClass.HARD


def test_a_pattern_may_name_several_wordings():
    assert classify(Decline("102", "DECLINE - Card revoked"), TABLE) is DeclineClass.HARD


@pytest.mark.parametrize(
    "text", ["INSUFFICIENT FUNDS", "insufficient   funds", "Declined. Insufficient Funds."]
)
def test_case_and_spacing_do_not_matter(text):
    assert classify(Decline("102", text), TABLE) is DeclineClass.SOFT


def test_hard_wins_over_soft():
    # "do not try again" holds "try again" (soft) but says never to retry
    assert classify(Decline("102", "Do not try again"), TABLE) is DeclineClass.HARD


def test_an_unknown_decline_takes_the_configured_class():
    unknown = Decline("102", "DECLINE - Something new")
    assert classify(unknown, TABLE) is DeclineClass.SOFT
    table = DeclineTable(hard=TABLE.hard, soft=TABLE.soft, unknown=DeclineClass.HARD)
    assert classify(unknown, table) is DeclineClass.HARD


def test_the_response_code_does_not_decide():
    # 102 for every card decline, 125 for checks: only the text tells
    assert classify(Decline("125", "Insufficient funds"), TABLE) is DeclineClass.SOFT
    assert classify(Decline("125", "Account closed"), TABLE) is DeclineClass.HARD


def test_configured_patterns_replace_the_defaults():
    settings = Settings.model_validate(
        {"dunning": {"soft_declines": ["^custom soft$"], "hard_declines": ["zz+"]}}
    )
    table = dunning_policy(settings).table
    assert classify(Decline("102", "CUSTOM SOFT"), table) is DeclineClass.SOFT
    assert classify(Decline("102", "a zzz b"), table) is DeclineClass.HARD
    assert classify(Decline("102", "Stolen card"), table) is DeclineClass.SOFT  # unknown now
