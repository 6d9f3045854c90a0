"""What every section shares: a frozen model refusing unknown keys, and common checks."""

from __future__ import annotations

import re

from pydantic import (
    BaseModel,
    ConfigDict,
)

ORIGIN = re.compile(r"^https?://[^/?#@\s]+/?$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def hh_mm(value: str) -> str:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError("must be a time of day as HH:MM")
    return f"{int(hours):02d}:{int(minutes):02d}"
