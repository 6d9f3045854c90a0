"""What every PayTrace ``response_code`` and ``errors`` code means (fact sheet §3, §3.1).

The outcome is decided by ``success`` and the code; processor text is only used to tell a
soft decline (may pass later) from a hard one (do not retry), because PayTrace returns one
decline code (102) for both. Message wording is never used to decide success.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from payledger.domain import Outcome


@dataclass(frozen=True)
class CodeMeaning:
    outcome: Outcome
    message: str


RESPONSE_CODES: dict[int, CodeMeaning] = {
    1: CodeMeaning(Outcome.ERROR, "The request was refused; see the error codes."),
    101: CodeMeaning(Outcome.APPROVED, "Approved."),
    102: CodeMeaning(Outcome.SOFT_DECLINE, "Declined by the card issuer."),
    103: CodeMeaning(Outcome.SOFT_DECLINE, "Approved, then voided automatically (AVS/CSC rules)."),
    106: CodeMeaning(Outcome.APPROVED, "Refunded."),
    107: CodeMeaning(Outcome.ERROR, "The refund did not go through."),
    108: CodeMeaning(Outcome.APPROVED, "Test refund accepted."),
    109: CodeMeaning(Outcome.APPROVED, "Voided."),
    110: CodeMeaning(Outcome.ERROR, "The void did not go through."),
    112: CodeMeaning(Outcome.APPROVED, "Captured."),
    113: CodeMeaning(Outcome.ERROR, "The capture did not go through."),
    120: CodeMeaning(Outcome.APPROVED, "Check accepted."),
    122: CodeMeaning(Outcome.APPROVED, "Check refunded."),
    124: CodeMeaning(Outcome.APPROVED, "Check funded or voided."),
    125: CodeMeaning(Outcome.SOFT_DECLINE, "Check not accepted by the ACH processor."),
    149: CodeMeaning(Outcome.APPROVED, "Receipt e-mailed."),
    160: CodeMeaning(Outcome.APPROVED, "Customer profile created."),
    161: CodeMeaning(Outcome.APPROVED, "Customer profile updated."),
    162: CodeMeaning(Outcome.APPROVED, "Customer profile deleted."),
    170: CodeMeaning(Outcome.APPROVED, "Level 3 (enhanced) data added."),
}

ERROR_CODES: dict[int, str] = {
    30: "The customer profile was not found or is incomplete.",
    35: "The card number is not valid.",
    43: "The expiration month is not valid.",
    45: "The checking account number is not valid.",
    46: "The transit routing number is not valid.",
    58: "The transaction id is missing or not valid.",
    80: "The check was not found, or is already voided or settled.",
    171: "A customer profile with this id already exists.",
    811: "The transaction was not found.",
    816: "Only an uncaptured, approved authorization can be captured.",
    817: "Only a settled transaction can be refunded; void it instead.",
    818: "Only a transaction pending settlement can be voided.",
    981: "The PayTrace API user lacks the permission for this call.",
}

DECLINE_CODES = frozenset({102, 103, 125})

HARD_DECLINE_MARKERS = (
    "EXPIRED",
    "STOLEN",
    "LOST",
    "PICK UP",
    "PICKUP",
    "INVALID ACCOUNT",
    "INVALID CARD",
    "NO SUCH",
    "CLOSED",
    "FRAUD",
    "RESTRICTED",
    "REVOKED",
    "NOT PERMITTED",
    "DO NOT TRY AGAIN",
    "SECURITY VIOLATION",
    "INVALID MERCHANT",
)


def processor_reason(processor_text: str) -> str:
    """``"    DECLINE - Do not honor"`` → ``"Do not honor"`` (the part after the label)."""
    return processor_text.rsplit(" - ", 1)[-1].strip()


def is_hard_decline(processor_text: str) -> bool:
    text = " ".join(processor_text.upper().split())
    return any(marker in text for marker in HARD_DECLINE_MARKERS)


def outcome_of(
    response_code: int,
    *,
    success: bool,
    processor_text: str = "",
    error_codes: Iterable[int] = (),
) -> Outcome:
    """Canonical outcome of one PayTrace answer."""
    if success:
        return Outcome.APPROVED
    if list(error_codes) or response_code == 1:
        return Outcome.ERROR
    if response_code in DECLINE_CODES:
        hard = is_hard_decline(processor_text)
        return Outcome.HARD_DECLINE if hard else Outcome.SOFT_DECLINE
    meaning = RESPONSE_CODES.get(response_code)
    if meaning is None or meaning.outcome is Outcome.APPROVED:
        return Outcome.ERROR
    return meaning.outcome


def message_of(
    response_code: int,
    *,
    success: bool,
    processor_text: str = "",
    errors: dict[int, list[str]] | None = None,
) -> str:
    """A human-readable sentence for operators (never parsed back)."""
    if errors:
        return " ".join(ERROR_CODES.get(code, " ".join(texts)) for code, texts in errors.items())
    if success and response_code == 1:
        return "Completed."
    meaning = RESPONSE_CODES.get(response_code)
    base = meaning.message if meaning else f"Unrecognised PayTrace response code {response_code}."
    reason = processor_reason(processor_text)
    return f"{base} {reason}." if reason and not success else base
