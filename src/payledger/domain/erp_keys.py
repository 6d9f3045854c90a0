"""What a value bound for an ERP query may hold, checked before any money moves.

Values from a request or an event end up in the ERP's queries: ids (customer account, invoice,
sales order) in keys and ``eq`` filters, other values (an e-mail address, a gateway customer
id, the shop's order id) in ``eq`` filters. D365 F&O reads ``*`` in an ``eq`` string as a
wildcard and documents no way to escape it, so such a value would match other rows; quotes are
no danger (the adapter doubles them). Ids keep to letters, digits and ``. _ / -`` (no ``..``,
which F&O's query ranges read as "from .. to"); lookup values may hold anything printable but
``*``.
"""

from __future__ import annotations

import re

from payledger.domain.errors import DomainError

ID_PATTERN = re.compile(r"(?!.*\.\.)[A-Za-z0-9._/-]{1,40}")
"""An ERP id: 1-40 letters, digits, ``.``, ``_``, ``/`` or ``-``, never ``..``."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
WILDCARD = "*"


class InvalidErpValue(DomainError):
    """A value bound for an ERP query could match other rows than the one it names."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        """The field as the caller named it, e.g. ``customer.account``."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 44 else value[:40] + "...")


def check_erp_id(field: str, value: str) -> str:
    """``value`` when it can be an ERP id; else :class:`InvalidErpValue` naming ``field``."""
    if ID_PATTERN.fullmatch(value):
        return value
    why = (
        f"'{WILDCARD}' is a wildcard in D365 filters"
        if WILDCARD in value
        else "only 1-40 letters, digits, '.', '_', '/' or '-' (no '..') are allowed"
    )
    raise InvalidErpValue(field, f"{field} {_shown(value)} is not a valid D365 id: {why}")


def check_erp_lookup(field: str, value: str) -> str:
    """``value`` when an ERP ``eq`` filter matches it exactly (no ``*``, no control
    characters); else :class:`InvalidErpValue` naming ``field``."""
    if WILDCARD in value:
        raise InvalidErpValue(
            field,
            f"{field} {_shown(value)} cannot be looked up in D365: '{WILDCARD}' is a wildcard "
            "in D365 filters and would match other records",
        )
    if _CONTROL.search(value):
        raise InvalidErpValue(field, f"{field} must not contain control characters")
    return value
