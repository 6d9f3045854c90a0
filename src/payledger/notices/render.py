"""Writing a notice: the built-in templates (``templates/<language>/``), each replaceable by
a same-named file in ``[dunning.notices] templates_dir``.

Each notice kind has three templates per language: ``<kind>.subject.txt``, ``<kind>.txt`` and
``<kind>.html`` (autoescaped). They see ``customer``, ``merchant``, ``invoice``, ``amount``
(formatted with its currency for the language), ``link`` ("" in ``recovered``),
``link_expires`` and ``next_attempt`` (local dates, "" when none).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from payledger.domain.dunning import DunningCase
from payledger.domain.errors import ConfigError
from payledger.domain.money import Money, minor_units
from payledger.flows.ports.notices import Contact, Email, Notice

BUILT_IN = Path(__file__).parent / "templates"
_PARTS = ("subject.txt", "txt", "html")


def format_money(money: Money, language: str) -> str:
    """``$1,234.50`` in English; ``1.234,50 USD`` in the languages that write a decimal comma."""
    places = minor_units(money.currency)
    amount = money.amount.quantize(Decimal(1).scaleb(-places))
    number = f"{amount:,.{places}f}"
    if language == "en":
        return f"${number}" if money.currency == "USD" else f"{number} {money.currency}"
    swapped = number.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return f"{swapped} {money.currency}"


class NoticeTemplates:
    """Implements ``flows.ports.notices.NoticeWriter`` with Jinja2."""

    def __init__(
        self,
        *,
        merchant: str,
        language: str,
        timezone: str,
        folder: Path | None = None,
    ) -> None:
        if folder is not None and not folder.is_dir():
            raise ConfigError(f"dunning.notices.templates_dir: {folder} is not a folder")
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(BUILT_IN)]
        if folder is not None:
            loaders.insert(0, jinja2.FileSystemLoader(folder))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.merchant = merchant
        self.zone = ZoneInfo(timezone)
        self.default = language
        self.languages = {name.split("/")[0] for name in self.env.list_templates()}
        if language not in self.languages:
            raise ConfigError(f"dunning.notices.language: no templates for {language!r}")

    def language_of(self, contact: Contact) -> str:
        """The customer's language (``es-MX`` → ``es``) when there are templates for it."""
        wanted = contact.language.lower().replace("_", "-").split("-")[0]
        return wanted if wanted in self.languages else self.default

    def write(self, case: DunningCase, notice: Notice, contact: Contact, link_url: str) -> Email:
        language = self.language_of(contact)
        values = {
            "customer": contact.name,
            "merchant": self.merchant,
            "invoice": case.invoice_number,
            "amount": format_money(case.amount, language),
            "link": link_url if notice.link else "",
            "link_expires": self._date(notice.link.expires_at) if notice.link else "",
            "next_attempt": self._date(case.next_attempt_at),
        }
        subject, text, html = (
            self._render(f"{language}/{notice.kind.value}.{part}", values) for part in _PARTS
        )
        return Email(
            to=contact.email,
            subject=" ".join(subject.split()),
            text=text,
            html=html,
            message_id=notice.message_id,
        )

    def _date(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).date().isoformat() if moment else ""

    def _render(self, name: str, values: dict[str, str]) -> str:
        try:
            return self.env.get_template(name).render(values)
        except jinja2.TemplateError as exc:
            raise ConfigError(f"notice template {name}: {exc}") from None
