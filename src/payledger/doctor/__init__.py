"""``payledger doctor``: is this installation ready to go live?

Three phases, as the README's "Going live" walks them: access (database, vault, PayTrace,
D365), configure and map (the D365 and PayTrace setup), validate (the mapping templates).
Each phase reports a :class:`Finding` per line and never raises. Nothing is created in PayTrace
or D365: where an environment offers no way to read a setting without writing, the doctor
looks for the value in use instead, and otherwise says it cannot be verified, not guessing.
The template gate of start-up is :func:`payledger.doctor.startup.require_valid_templates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payledger.doctor.access import probe_d365, probe_database, probe_paytrace, probe_vault
from payledger.doctor.configure import verify_d365_setup, verify_discretionary_titles
from payledger.doctor.posting import verify_posting_service, verify_summary_mode
from payledger.doctor.report import ACCESS, CONFIGURE, Finding, skip
from payledger.doctor.validate import validate_mapping

if TYPE_CHECKING:
    from payledger.bootstrap import Container

__all__ = ["Finding", "run"]


async def run(container: Container) -> list[Finding]:
    """Every finding in phase order: access, configure and map, validate."""
    findings = await probe_database(container)
    if all(finding.ok for finding in findings):
        findings += await probe_vault(container)
    else:
        findings.append(skip(ACCESS, "vault", "not checked: the database is not ready"))
    findings += await probe_paytrace(container)
    d365 = await probe_d365(container)
    findings += d365.findings
    findings.append(verify_discretionary_titles(container.settings))
    findings += verify_summary_mode(container.settings)
    if d365.client is not None and d365.metadata is not None:
        findings += await verify_d365_setup(d365.client, d365.metadata, container.settings)
        findings += await verify_posting_service(d365.client, container.settings)
    elif container.settings.d365.enabled:
        findings.append(skip(CONFIGURE, "D365 setup", "not checked: no access to D365 (above)"))
    findings.append(await validate_mapping(container, offline=d365.metadata is None))
    return findings
