"""A flow as a diagram: boxes in four columns (sources, job kinds, templates, vendor entities)
and the arrows between them, laid out here and drawn as SVG by ``templates/flows.html``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from payledger.bootstrap.flow_map import Entity, FlowView, Source, Step

ROW = 52
BOX_HEIGHT = 36
TOP = 34
"""Room for the column headings."""
COLUMNS = {"source": (10, 100), "step": (180, 260), "template": (520, 270), "entity": (860, 290)}
"""Each column's left edge and box width."""
HEADINGS = {"source": "entered by", "step": "job kinds", "template": "mapping templates"}
SYSTEMS = {"d365": "D365", "paytrace": "PayTrace"}


@dataclass(frozen=True)
class Box:
    node: str
    """``<column>:<name>``: what tests and links name the box by."""
    column: str
    x: int
    y: int
    width: int
    lines: tuple[str, ...]
    off: bool = False
    """A job kind that is not enabled by the settings."""

    @property
    def middle(self) -> int:
        return self.y + BOX_HEIGHT // 2


@dataclass(frozen=True)
class Arrow:
    path: str
    kind: str
    """``feeds`` (source or earlier kind to a kind), ``maps`` (kind to template), ``write``
    or ``read``."""


@dataclass(frozen=True)
class Diagram:
    name: str
    title: str
    width: int
    height: int
    headings: tuple[tuple[int, str], ...]
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]


def entity_node(entity: Entity) -> str:
    return f"entity:{entity.system}:{entity.name}"


def _column(name: str, keys: Iterable[str], lines: dict[str, tuple[str, ...]]) -> list[Box]:
    x, width = COLUMNS[name]
    return [
        Box(f"{name}:{key}", name, x, TOP + row * ROW, width, lines[key])
        for row, key in enumerate(keys)
    ]


def _across(start: Box, end: Box) -> str:
    x1, x2 = start.x + start.width, end.x
    bend = (x1 + x2) // 2
    return f"M{x1},{start.middle} C{bend},{start.middle} {bend},{end.middle} {x2},{end.middle}"


def _down(start: Box, end: Box) -> str:
    """From an earlier kind to a later one in the same column, bulging out to the left."""
    bulge = start.x - 20 - 6 * abs(end.y - start.y) // ROW
    return (
        f"M{start.x},{start.middle} C{bulge},{start.middle} {bulge},{end.middle} "
        f"{start.x},{end.middle}"
    )


def _entities(steps: tuple[Step, ...]) -> dict[str, Entity]:
    found: dict[str, Entity] = {}
    for step in steps:
        targets = [use.target for use in step.templates if use.target is not None]
        for entity in (*targets, *step.reads, *step.writes):
            found.setdefault(entity_node(entity)[len("entity:") :], entity)
    return found


def diagram(flow: FlowView) -> Diagram:
    """``flow`` laid out left to right."""
    sources = [source for source in Source if any(source in s.sources for s in flow.steps)]
    uses = {use.name: use for step in flow.steps for use in step.templates}
    entities = _entities(flow.steps)
    boxes = {
        box.node: box
        for box in (
            *_column("source", sources, {s: (s.value,) for s in sources}),
            *_column("step", [s.kind for s in flow.steps], {s.kind: (s.kind,) for s in flow.steps}),
            *_column("template", uses, {n: (f"version {u.version}", n) for n, u in uses.items()}),
            *_column(
                "entity",
                entities,
                {k: (SYSTEMS.get(e.system, e.system), e.name) for k, e in entities.items()},
            ),
        )
    }
    for step in flow.steps:
        if not step.enabled:
            box = boxes[f"step:{step.kind}"]
            boxes[box.node] = Box(box.node, "step", box.x, box.y, box.width, (step.kind,), True)
    arrows = []
    for step in flow.steps:
        me = boxes[f"step:{step.kind}"]
        arrows += [Arrow(_across(boxes[f"source:{s}"], me), "feeds") for s in step.sources]
        arrows += [Arrow(_down(boxes[f"step:{k}"], me), "feeds") for k in step.after]
        for use in step.templates:
            template = boxes[f"template:{use.name}"]
            arrows.append(Arrow(_across(me, template), "maps"))
            if use.target is not None:
                arrows.append(Arrow(_across(template, boxes[entity_node(use.target)]), "write"))
        arrows += [Arrow(_across(me, boxes[entity_node(e)]), "read") for e in step.reads]
        arrows += [Arrow(_across(me, boxes[entity_node(e)]), "write") for e in step.writes]
    rows = max(len(sources), len(flow.steps), len(uses), len(entities), 1)
    headings = tuple((COLUMNS[c][0], text) for c, text in HEADINGS.items())
    headings += ((COLUMNS["entity"][0], "D365 and PayTrace"),)
    x, width = COLUMNS["entity"]
    return Diagram(
        flow.name,
        flow.title,
        x + width + 10,
        TOP + rows * ROW,
        headings,
        tuple(boxes.values()),
        tuple(arrows),
    )
