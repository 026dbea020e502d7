"""Rule groups as plain values, in the shape of a Prometheus rule file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sloctl.errors import SloctlError
from sloctl.sources.promql import prom_duration


class RuleGenError(SloctlError):
    """The specs cannot be turned into rule files (e.g. two outputs would share a name)."""


@dataclass(frozen=True)
class Rule:
    """One recording (``kind="record"``) or alerting rule."""

    kind: Literal["record", "alert"]
    name: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    for_seconds: int = 0

    def as_dict(self) -> dict[str, object]:
        """The rule as Prometheus expects it; labels and annotations sorted by name."""
        out: dict[str, object] = {self.kind: self.name, "expr": self.expr}
        if self.kind == "alert" and self.for_seconds > 0:
            out["for"] = prom_duration(self.for_seconds)
        if self.labels:
            out["labels"] = dict(sorted(self.labels.items()))
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        return out


@dataclass(frozen=True)
class Group:
    """A named rule group (evaluated together, at the global interval)."""

    name: str
    rules: tuple[Rule, ...]

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "rules": [r.as_dict() for r in self.rules]}


@dataclass(frozen=True)
class RuleFile:
    """One generated file: its name, the spec files (as shown) and notes of its header, and
    its groups."""

    name: str
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    groups: tuple[Group, ...]
