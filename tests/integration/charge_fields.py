"""A deployment's own D365 field carried to PayTrace on every charge: the charge request template
is edited (a spec file in ``[mapping] templates_dir``, as an operator would) to send the D365
``ProjectCode`` extension field, of the sales order or else the customer, as the PayTrace
discretionary field titled "Project" and at the end of the description."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from payledger.bootstrap import Container
from payledger.config import MappingSettings, Settings
from payledger.demo.stage import DISCRETIONARY_TITLES, Stage

PROJECT = "Project"
"""The discretionary title the merchant configured in PayTrace for the project."""

_PROJECT_CODE = {
    "first_of": [
        {"path": "enrich.d365_order.ProjectCode"},
        {"path": "enrich.d365_customer.ProjectCode"},
    ]
}


def project_template(folder: Path) -> Path:
    """The default ``paytrace_transaction_request`` plus the project, written into ``folder``."""
    default = resources.files("payledger.mapping") / "specs" / "paytrace_transaction_request.yaml"
    spec: dict[str, Any] = yaml.safe_load(default.read_text())
    fields = spec["fields"]
    base = {"jsonata": fields["description"]["jsonata"]}
    fields["description"] = {
        "first_of": [
            {
                "format": "{base}, project {project}",
                "values": {"base": base, "project": _PROJECT_CODE},
            },
            base,
        ],
        "optional": True,
        "on_overflow": "truncate",
    }
    fields[f"discretionary_data.{PROJECT}"] = {**_PROJECT_CODE, "optional": True}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "paytrace_transaction_request.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def with_project(settings: Settings, stage: Stage, folder: Path) -> Settings:
    """``settings`` with the project template in force and "Project" among the discretionary
    titles, in payledger's configuration and on the (sandbox) merchant account alike."""
    titles = [*DISCRETIONARY_TITLES, PROJECT]
    stage.paytrace.state.settings.discretionary_fields = tuple(titles)
    project_template(folder)
    paytrace = settings.paytrace.model_copy(update={"discretionary_titles": titles})
    mapping = MappingSettings(templates_dir=folder)
    return settings.model_copy(update={"paytrace": paytrace, "mapping": mapping})


async def set_in_d365(container: Container, entity_set: str, key: dict[str, str], **values: Any):
    """Set fields of one ``usmf`` row through the OData API, as a D365 user would."""
    client = await container.d365_client()
    await client.update(entity_set, {"dataAreaId": "usmf", **key}, values, etag="*")
