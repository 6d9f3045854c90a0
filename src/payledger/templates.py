"""The seed templates (version 0: the defaults, each replaced by a same-named file in
``mapping.templates_dir``), the settings templates read, and the catalog templates are checked
against when D365 is not read. Which saved version is in force on top of the seeds is in the
database (``stores.template_versions``; ``bootstrap.templates_in_force``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from payledger.config import Settings
from payledger.domain.errors import ConfigError
from payledger.mapping import (
    EntitySchema,
    FieldType,
    PropertySchema,
    SchemaCatalog,
    StaticCatalog,
    Template,
    default_templates,
    load_template_file,
    paytrace_entities,
)


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
    for path in _folder_files(settings):
        template = load_template_file(path)
        templates[template.name] = template
    return templates


def seed_sources(settings: Settings) -> dict[str, str]:
    """The YAML text of every seed template (version 0) by name, as :func:`load_templates`
    chooses them."""
    specs = resources.files("payledger.mapping").joinpath("specs")
    sources = {
        name: specs.joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        for name in default_templates()
    }
    for path in _folder_files(settings):
        sources[load_template_file(path).name] = path.read_text(encoding="utf-8")
    return sources


def _folder_files(settings: Settings) -> list[Path]:
    folder = settings.mapping.templates_dir
    if folder is None:
        return []
    if not folder.is_dir():
        raise ConfigError(f"mapping.templates_dir: {folder} is not a folder")
    return sorted(Path(folder).glob("*.y*ml"))


class _AnyProperties(Mapping[str, PropertySchema]):
    """Every name is a property of unknown type: a D365 entity whose $metadata is not read."""

    _ANY = PropertySchema(FieldType.ANY)

    def __getitem__(self, name: str) -> PropertySchema:
        return self._ANY

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class _OfflineCatalog:
    """PayTrace targets as configured; any D365 entity and field is taken on trust."""

    paytrace: StaticCatalog

    def entity(self, system: str, name: str) -> EntitySchema | None:
        if system == "d365":
            return EntitySchema(name, _AnyProperties(), "d365")
        return self.paytrace.entity(system, name)


def offline_catalog(settings: Settings) -> SchemaCatalog:
    """What templates may write when D365 ``$metadata`` is not read: the configured PayTrace
    targets exactly, any D365 entity and field on trust."""
    titles = settings.paytrace.discretionary_titles
    return _OfflineCatalog(StaticCatalog.of(paytrace_entities(titles)))
