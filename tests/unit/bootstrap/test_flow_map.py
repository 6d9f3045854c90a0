"""The flow view's registry describes every job kind the table runs, and cannot claim a
schedule, a template or an entity set that does not exist; the diagram draws what it says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from payledger.adapters.db.migrate import migrate
from payledger.bootstrap import Container, JobKind, build
from payledger.bootstrap.flow_map import (
    FLOWS,
    JOB_TOUCHES,
    Source,
    active_template_versions,
    flow_views,
    undescribed,
)
from payledger.bootstrap.jobs import JOB_KINDS
from payledger.config import D365EntitySetNames
from payledger.mapping import default_templates
from payledger.web.console.flow_svg import diagram
from tests.unit.bootstrap.test_job_kinds import settings


def test_every_job_kind_is_described_and_placed_in_a_flow():
    assert undescribed() == []
    assert set(JOB_TOUCHES) == {row.kind for row in JOB_KINDS}


def test_a_new_job_kind_without_a_description_is_named():
    new = JobKind("fraud.retrain", lambda _container: None)  # type: ignore[arg-type, return-value]
    assert undescribed((*JOB_KINDS, new)) == ["fraud.retrain"]


def test_each_kind_sits_in_one_flow_after_kinds_of_that_flow_only():
    placed = [kind for flow in FLOWS for kind in flow.kinds]
    assert len(placed) == len(set(placed))
    for flow in FLOWS:
        for position, kind in enumerate(flow.kinds):
            assert set(JOB_TOUCHES[kind].after) <= set(flow.kinds[:position]), kind


def test_a_kind_is_said_to_be_scheduled_exactly_when_its_row_has_a_schedule():
    for row in JOB_KINDS:
        assert (Source.SCHEDULE in JOB_TOUCHES[row.kind].sources) == (row.schedule is not None)


def test_a_kind_is_entered_from_outside_or_by_an_earlier_kind():
    for kind, touches in JOB_TOUCHES.items():
        assert touches.sources or touches.after, kind


def test_named_templates_and_entity_sets_exist():
    templates = default_templates()
    entity_sets = set(D365EntitySetNames.model_fields)
    for kind, touches in JOB_TOUCHES.items():
        assert set(touches.templates) <= set(templates), kind
        for entity in (*touches.reads, *touches.writes):
            assert entity.system in ("d365", "paytrace"), kind
            if entity.system == "d365":
                assert entity.name in entity_sets, (kind, entity)


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[Container]:
    built = build(settings(tmp_path, d365={"entity_sets": {"invoices": "SalesInvoiceV3"}}))
    await built.prepare()
    yield built
    await built.aclose()


async def test_every_template_in_force_is_active_in_its_default_version(container):
    versions = await active_template_versions(container)
    assert set(versions) == set(container.templates())
    assert set(versions.values()) == {"default"}


async def test_the_payment_flow_is_drawn_from_sources_through_kinds_to_entities(container):
    views = {view.name: view for view in await flow_views(container)}
    drawn = diagram(views["payments"])
    nodes = {box.node: box for box in drawn.boxes}
    assert {
        "source:webhook",
        "source:API",
        "source:schedule",
        "source:operator",
        "step:paytrace.poll",
        "step:paytrace.fetch_hinted",
        "step:payment.process",
        "step:journal.flush",
        "step:journal.post",
        "template:d365_payment_journal_line",
        "entity:d365:CustomerPaymentJournalLines",
        "entity:paytrace:transactions export",
        "entity:d365:SalesInvoiceV3",  # as [d365.entity_sets] names it
    } <= set(nodes)
    assert nodes["template:d365_payment_journal_line"].lines[0] == "version default"
    assert nodes["step:payment.process"].off  # D365 is not enabled in these settings
    kinds = {arrow.kind for arrow in drawn.arrows}
    assert kinds == {"feeds", "maps", "write", "read"}
    assert drawn.height >= 34 + 5 * 52  # five kinds, one row each


async def test_enabled_kinds_are_drawn_on(tmp_path: Path):
    built = build(settings(tmp_path, d365={"enabled": True}, paytrace={"enabled": True}))
    await migrate(built.database)
    try:
        views = {view.name: view for view in await flow_views(built)}
    finally:
        await built.aclose()
    assert all(step.enabled for step in views["payments"].steps)
