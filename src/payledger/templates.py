"""The mapping templates in force and the settings they read, both derived from configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from payledger.config import Settings
from payledger.domain.errors import ConfigError
from payledger.mapping import Template, default_templates, load_template_file


def template_settings(settings: Settings) -> dict[str, Any]:
    """The ``settings.*`` namespace templates read (``mapping/specs/settings.example.yaml``)."""
    d = settings.d365
    return {
        "company": d.company,
        "currency": settings.paytrace.currency,
        "timezone": d.timezone,
        "d365": {
            "payment_journal_name": d.payment_journal_name,
            "payment_method": d.payment_method,
            "ach_payment_method": d.ach_payment_method or d.payment_method,
            "clearing_account_type": d.clearing_account_type,
            "clearing_account": d.clearing_account,
            "deposit_account_type": d.deposit_account_type,
            "deposit_account": d.deposit_account,
            "general_journal_name": d.general_journal_name,
            "fee_account": d.fee_account,
            "summary_customer_account": d.summary_customer_account,
            "customer_group": d.customer_group,
            "fields": d.fields.model_dump(),
        },
        "paytrace": {
            "discretionary": {
                "order": settings.paytrace.order_title,
                "customer": settings.paytrace.customer_title,
            },
        },
    }


def load_templates(settings: Settings) -> dict[str, Template]:
    """The default templates, each replaced by a same-named one in ``mapping.templates_dir``."""
    templates = dict(default_templates())
    folder = settings.mapping.templates_dir
    if folder is None:
        return templates
    if not folder.is_dir():
        raise ConfigError(f"mapping.templates_dir: {folder} is not a folder")
    for path in sorted(Path(folder).glob("*.y*ml")):
        template = load_template_file(path)
        templates[template.name] = template
    return templates
