"""Errors of the mapping engine; each names the template, the field and the reason.

```
ConfigError
└── TemplateError        a template is malformed or cannot be compiled (found before any run)
    └── TemplateInvalid  validation against the target schema found problems (``issues``)
MappingError
└── FieldMappingError    one record cannot be mapped (missing source, wrong type, failing
                         expression); the record is parked, never posted with gaps
```
"""

from __future__ import annotations

from dataclasses import dataclass

from payledger.domain.errors import ConfigError, MappingError


class TransformError(ValueError):
    """Raised by a transform that cannot handle its input; the engine names the field."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a template: where it is and why it is wrong."""

    template: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"template {self.template}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.reason}"


class TemplateError(ConfigError):
    """A template is malformed or cannot be compiled."""

    def __init__(self, template: str, field: str, reason: str) -> None:
        self.issue = Issue(template, field, reason)
        self.template, self.field, self.reason = template, field, reason
        super().__init__(str(self.issue))


class TemplateInvalid(TemplateError):
    """Validation against the target schema found one or more problems."""

    def __init__(self, issues: list[Issue]) -> None:
        first = issues[0]
        super().__init__(first.template, first.field, first.reason)
        self.issues = issues
        self.args = ("\n".join(str(issue) for issue in issues),)


class FieldMappingError(MappingError):
    """A record cannot be mapped: a field's source is missing, of the wrong type, or failed."""

    def __init__(self, template: str, field: str, reason: str) -> None:
        self.template, self.field, self.reason = template, field, reason
        super().__init__(f"template {template}, field {field}: {reason}")
