"""``payledger doctor`` on daily-summary mode: the lines need their customer and a daily
reconciliation, or nothing is ever posted."""

from __future__ import annotations

from payledger.config import D365Settings, PostingSettings, ReconcileSettings, Settings
from payledger.doctor.posting import verify_summary_mode


def settings(account: str = "US-027", reconcile: bool = True) -> Settings:
    return Settings(
        posting=PostingSettings(granularity="daily_summary"),
        d365=D365Settings(summary_customer_account=account),
        reconcile=ReconcileSettings(enabled=reconcile),
    )


def test_per_payment_mode_has_nothing_to_check():
    assert verify_summary_mode(Settings()) == []


def test_summary_mode_set_up_is_ok_and_names_the_customer():
    [finding] = verify_summary_mode(settings())
    assert finding.ok and "US-027" in finding.detail


def test_summary_mode_without_a_customer_fails_naming_the_key():
    [finding] = verify_summary_mode(settings(account=""))
    assert not finding.ok and "summary_customer_account" in finding.detail


def test_summary_mode_without_daily_reconciliation_fails_with_the_fix():
    [finding] = verify_summary_mode(settings(reconcile=False))
    assert not finding.ok
    assert "[reconcile] enabled" in finding.detail and "payledger reconcile" in finding.hint
