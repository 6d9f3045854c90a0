"""Declarative mapping between the canonical model, D365 F&O and PayTrace (docs/mapping.md).

Typical use::

    template = default_template("d365_payment_journal_line")
    check_templates([template], catalog, settings)          # before anything runs
    compiled = compile_template(template, settings, catalog)  # once
    payload = compiled.map(source_document(payment, context=...))  # per record
    dumps(payload)                                           # Decimals as JSON numbers
"""

from payledger.mapping.bench import MappingBenchResult, bench_mapping
from payledger.mapping.defaults import default_template, default_templates, example_settings
from payledger.mapping.document import ENRICHMENTS, jsonable, source_document
from payledger.mapping.engine import CompiledTemplate, compile_template
from payledger.mapping.errors import (
    FieldMappingError,
    Issue,
    TemplateError,
    TemplateInvalid,
    TransformError,
)
from payledger.mapping.jsonio import dumps, loads
from payledger.mapping.lineage import FieldLineage, Preview, preview
from payledger.mapping.parse import load_template, load_template_file, parse_template
from payledger.mapping.paytrace_targets import (
    customer_profile,
    paytrace_entities,
    title_issues,
    transaction_request,
)
from payledger.mapping.schema import (
    EntitySchema,
    FieldType,
    PropertySchema,
    SchemaCatalog,
    StaticCatalog,
    field_type_of_edm,
)
from payledger.mapping.template import Template
from payledger.mapping.transforms import REGISTRY as TRANSFORMS
from payledger.mapping.validate import check_templates, validate_template, validate_templates

__all__ = [  # noqa: RUF022 - plain sorted(), pinned by a test
    "CompiledTemplate",
    "ENRICHMENTS",
    "EntitySchema",
    "FieldLineage",
    "FieldMappingError",
    "FieldType",
    "Issue",
    "MappingBenchResult",
    "Preview",
    "PropertySchema",
    "SchemaCatalog",
    "StaticCatalog",
    "TRANSFORMS",
    "Template",
    "TemplateError",
    "TemplateInvalid",
    "TransformError",
    "bench_mapping",
    "check_templates",
    "compile_template",
    "customer_profile",
    "default_template",
    "default_templates",
    "dumps",
    "example_settings",
    "field_type_of_edm",
    "jsonable",
    "load_template",
    "load_template_file",
    "loads",
    "parse_template",
    "paytrace_entities",
    "preview",
    "source_document",
    "title_issues",
    "transaction_request",
    "validate_template",
    "validate_templates",
]
