"""What the template version store hands out and refuses with (``stores.template_versions``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from payledger.domain.errors import DomainError
from payledger.mapping import Issue, Template, TemplateError, load_template

SEED = 0
"""The version number of a seed template: the default, or the ``templates_dir`` file."""

Action = Literal["activate", "rollback"]


def version_label(template: str, version: int) -> str:
    """How a version is named on postings and in messages: ``name@3``, ``name@default``."""
    return f"{template}@{'default' if version == SEED else version}"


def parse_label(label: str) -> tuple[str, int] | None:
    """``name@3`` → (name, 3), ``name@default`` → (name, 0); None for anything else."""
    name, at, version = label.rpartition("@")
    if not (name and at):
        return None
    if version == "default":
        return name, SEED
    return (name, int(version)) if version.isdigit() else None


@dataclass(frozen=True)
class TemplateVersion:
    """One saved version of a template (or its seed, version 0); never changes once saved."""

    template: str
    version: int
    body: str
    """The YAML as saved."""
    author: str
    created_at: datetime | None
    """None for the seed."""
    comment: str
    based_on: int
    """The version its author started from (0: the seed)."""
    checksum: str
    """sha256 of ``body`` (hex): equal text, equal checksum."""

    @property
    def label(self) -> str:
        return version_label(self.template, self.version)

    def row(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "version": self.version,
            "body": self.body,
            "author": self.author,
            "created_at": self.created_at,
            "comment": self.comment,
            "based_on": self.based_on,
            "checksum": self.checksum,
        }

    def summary(self) -> dict[str, Any]:
        """What the audit log keeps of a save (the YAML itself stays in the version)."""
        return {
            "version": self.version,
            "based_on": self.based_on,
            "checksum": self.checksum,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class Activation:
    """A version put in force (``activate``) or an activation undone (``rollback``)."""

    template: str
    version: int
    previous: int
    """The version in force before (0: the seed)."""
    action: Action | str
    actor: str
    at: datetime
    comment: str = ""

    def row(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "version": self.version,
            "previous": self.previous,
            "action": self.action,
            "actor": self.actor,
            "at": self.at,
            "comment": self.comment,
        }


def undo_target(history: Sequence[Activation]) -> int | None:
    """The version a rollback puts back: the one in force before the last activation not
    undone yet (None when nothing is left to undo). Repeated rollbacks walk back in time."""
    stack = [SEED]
    for entry in history:
        if entry.action == "rollback":
            if len(stack) > 1:
                stack.pop()
        elif entry.version != stack[-1]:
            stack.append(entry.version)
    return stack[-2] if len(stack) > 1 else None


def parse_version(name: str, body: str, label: str) -> Template:
    """``body`` parsed, if it is a well-formed template named ``name``.

    Raises:
        InvalidTemplateVersion: naming the field and the reason.
    """
    try:
        template = load_template(body, source=label)
    except TemplateError as exc:
        raise InvalidTemplateVersion(label, [exc.issue], "is not a well-formed template") from None
    if template.name != name:
        issue = Issue(label, "template", f"names template {template.name!r}, not {name!r}")
        raise InvalidTemplateVersion(label, [issue], "is not a version of this template")
    return template


class VersionConflict(DomainError):
    """Another version was saved after the one the author started from; nothing was stored.

    ``latest`` is the version saved meanwhile and ``body`` the text that was refused, so the
    author can merge the two and save again on top of ``latest``.
    """

    code = "conflict"

    def __init__(self, template: str, based_on: int, latest: TemplateVersion, body: str) -> None:
        self.template, self.based_on, self.latest, self.body = template, based_on, latest, body
        when = latest.created_at.isoformat(timespec="seconds") if latest.created_at else "-"
        why = f" ({latest.comment})" if latest.comment else ""
        super().__init__(
            f"template {template}: you started from version {based_on}, but {latest.author} "
            f"saved version {latest.version} at {when}{why}; your text was not saved: "
            f"start from version {latest.version} and save again"
        )


class InvalidTemplateVersion(DomainError):
    """A template version is malformed, or does not validate against the target schema."""

    code = "invalid_template"

    def __init__(self, label: str, issues: Sequence[Issue], what: str) -> None:
        self.label, self.issues = label, list(issues)
        found = "; ".join(
            f"field {issue.field}: {issue.reason}" if issue.field else issue.reason
            for issue in self.issues
        )
        super().__init__(f"template {label} {what}: {found}")


class UnknownTemplateVersion(DomainError):
    """No such template version (or, for a rollback, no activation left to undo)."""

    code = "not_found"

    def __init__(self, template: str, version: int | None) -> None:
        self.template, self.version = template, version
        if version is None:
            text = f"template {template}: no activation left to roll back (its seed is in force)"
        elif version == SEED:
            text = f"no template {template} (neither a default nor in mapping.templates_dir)"
        else:
            text = f"template {template} has no version {version}"
        super().__init__(text)
