"""The one exception sandbox handlers raise: a PayTrace ``errors`` object to answer with."""

from __future__ import annotations

from typing import Any

from payledger.sandbox.paytrace import messages


class VendorErrors(Exception):
    """Answer ``{"success": false, "response_code": 1, "errors": {...}}`` plus ``extra`` keys.

    Collect several problems before raising so one reply can carry several codes, as PayTrace
    does (35 and 43 together).
    """

    def __init__(self, errors: dict[int, list[str]] | None = None, **extra: Any) -> None:
        self.errors: dict[int, list[str]] = dict(errors or {})
        self.extra = extra
        super().__init__(self.errors)

    @classmethod
    def of(cls, code: int, message: str | None = None, **extra: Any) -> VendorErrors:
        return cls({code: [message or messages.error_message(code)]}, **extra)

    def add(self, code: int, message: str | None = None) -> None:
        self.errors.setdefault(code, []).append(message or messages.error_message(code))

    def raise_if_any(self, **extra: Any) -> None:
        if self.errors:
            self.extra.update(extra)
            raise self

    def body(self) -> dict[str, Any]:
        return {
            "success": False,
            "response_code": 1,
            "status_message": messages.REQUEST_FAILED,
            "errors": {str(code): list(texts) for code, texts in self.errors.items()},
            **self.extra,
        }
