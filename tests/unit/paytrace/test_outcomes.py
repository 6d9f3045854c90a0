"""Every response and error code of the fact sheet has a canonical outcome and a message."""

from __future__ import annotations

import pytest

from payledger.adapters.paytrace import message_of, outcome_of
from payledger.adapters.paytrace.outcomes import ERROR_CODES, RESPONSE_CODES
from payledger.domain import Outcome

FACT_SHEET_RESPONSE_CODES = {
    1,
    101,
    102,
    103,
    106,
    107,
    108,
    109,
    110,
    112,
    113,
    120,
    122,
    124,
    125,
    149,
    160,
    161,
    162,
    170,
}
FACT_SHEET_ERROR_CODES = {30, 35, 43, 45, 46, 58, 80, 171, 811, 816, 817, 818, 981}


def test_the_tables_cover_the_fact_sheet():
    assert set(RESPONSE_CODES) == FACT_SHEET_RESPONSE_CODES
    assert set(ERROR_CODES) == FACT_SHEET_ERROR_CODES


@pytest.mark.parametrize(
    ("code", "success", "outcome"),
    [
        (1, True, Outcome.APPROVED),  # exports and other request-level successes
        (1, False, Outcome.ERROR),
        (101, True, Outcome.APPROVED),
        (102, False, Outcome.SOFT_DECLINE),
        (103, False, Outcome.SOFT_DECLINE),
        (106, True, Outcome.APPROVED),
        (107, False, Outcome.ERROR),
        (108, True, Outcome.APPROVED),
        (109, True, Outcome.APPROVED),
        (110, False, Outcome.ERROR),
        (112, True, Outcome.APPROVED),
        (113, False, Outcome.ERROR),
        (120, True, Outcome.APPROVED),
        (122, True, Outcome.APPROVED),
        (124, True, Outcome.APPROVED),
        (125, False, Outcome.SOFT_DECLINE),
        (149, True, Outcome.APPROVED),
        (160, True, Outcome.APPROVED),
        (161, True, Outcome.APPROVED),
        (162, True, Outcome.APPROVED),
        (170, True, Outcome.APPROVED),
        (101, False, Outcome.ERROR),  # a "success" code without success is never approval
        (555, False, Outcome.ERROR),
    ],
)
def test_outcome_of_every_code(code, success, outcome):
    assert outcome_of(code, success=success) is outcome


@pytest.mark.parametrize(
    ("processor_text", "outcome"),
    [
        ("    DECLINE - Do not honor", Outcome.SOFT_DECLINE),
        ("  EXPIRED CARD - Expired card", Outcome.HARD_DECLINE),
        ("INSUFFICIENT FUNDS - Insufficient funds", Outcome.SOFT_DECLINE),
        ("PICK UP CARD - Lost or stolen", Outcome.HARD_DECLINE),
        ("  CLOSED  ACCOUNT - Account closed", Outcome.HARD_DECLINE),
        ("", Outcome.SOFT_DECLINE),
    ],
)
def test_processor_text_separates_soft_from_hard_declines(processor_text, outcome):
    assert outcome_of(102, success=False, processor_text=processor_text) is outcome


def test_errors_always_mean_error_even_with_a_decline_code():
    assert outcome_of(102, success=False, error_codes=[35]) is Outcome.ERROR


@pytest.mark.parametrize("code", sorted(FACT_SHEET_RESPONSE_CODES))
def test_every_response_code_has_a_message(code):
    assert message_of(code, success=code not in {102, 103, 107, 110, 113, 125})


def test_messages_name_the_processor_reason_and_the_errors():
    assert message_of(102, success=False, processor_text="    DECLINE - Do not honor") == (
        "Declined by the card issuer. Do not honor."
    )
    assert message_of(1, success=False, errors={35: ["x"], 43: ["y"]}) == (
        "The card number is not valid. The expiration month is not valid."
    )
    assert message_of(1, success=False, errors={9999: ["Vendor text."]}) == "Vendor text."
    assert message_of(1, success=True) == "Completed."
    assert "Unrecognised" in message_of(555, success=True)
