"""The demo's proof: line by line, and per group of kinds with ACH told apart by its method."""

from __future__ import annotations

from decimal import Decimal

from payledger.demo.agreement import ACH_IN, ACH_OUT, CARD_IN, Agreement, d365_group

D = Decimal


def test_d365_lines_are_grouped_by_sign_and_method_of_payment():
    assert d365_group(D("42.10"), "ACH", "ACH") == ACH_IN
    assert d365_group(D("-7.50"), "ACH", "ACH") == ACH_OUT
    assert d365_group(D("42.10"), "ELECTRONIC", "ACH") == CARD_IN


def test_matching_lines_but_an_ach_line_posted_as_a_card_one_do_not_agree():
    lines = {"PT-CHK-981601-PAY": D("42.10")}
    agreement = Agreement(
        expected=lines,
        found=dict(lines),
        totals={ACH_IN: (D("42.10"), D("0")), CARD_IN: (D("0"), D("42.10"))},
    )
    assert agreement.missing == agreement.unexpected == agreement.wrong_amounts == []
    assert not agreement.agrees


def test_lines_and_totals_that_match_agree():
    lines = {"PT-CHK-981601-PAY": D("42.10"), "PT-CHK-981602-REF": D("-7.50")}
    totals = {ACH_IN: (D("42.10"), D("42.10")), ACH_OUT: (D("-7.50"), D("-7.50"))}
    assert Agreement(expected=lines, found=dict(lines), totals=totals).agrees
