"""Named, pure transforms for templates; :data:`REGISTRY` maps each name to its definition."""

from payledger.mapping.transforms import amounts, codes, dates, parties, text
from payledger.mapping.transforms.registry import REGISTRY, Param, Transform

__all__ = ["REGISTRY", "Param", "Transform", "amounts", "codes", "dates", "parties", "text"]
