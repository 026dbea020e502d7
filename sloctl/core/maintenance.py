"""Maintenance windows: intervals whose events are left out of an SLO's attainment and budget.

A window applies to one SLO, to every SLO of a service, or (neither set) to every SLO. Planned
outages are excluded (Nobl9's budget adjustments), never hidden: each evaluation notes how many
minutes it excluded and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Maintenance:
    """One maintenance window ``[start, end)``; ``id`` is the store's for CLI-made windows."""

    start: datetime
    end: datetime
    reason: str = ""
    service: str | None = None
    slo_id: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(
                f"a maintenance window must end after it starts: {self.start} .. {self.end}"
            )

    def applies_to(self, service: str, slo_id: str) -> bool:
        """True for the SLO ``slo_id`` of ``service`` when this window's scope covers it."""
        if self.slo_id is not None:
            return self.slo_id == slo_id
        return self.service is None or self.service == service

    @property
    def scope(self) -> str:
        """``slo order/availability``, ``service order`` or ``every SLO``."""
        if self.slo_id is not None:
            return f"slo {self.slo_id}"
        return f"service {self.service}" if self.service is not None else "every SLO"


Interval = tuple[datetime, datetime]


def excluded_intervals(windows: Iterable[Maintenance], start: datetime, end: datetime
                       ) -> tuple[Interval, ...]:
    """The parts of ``[start, end)`` that ``windows`` cover, clipped, merged and in order."""
    clipped = sorted(
        (max(w.start, start), min(w.end, end))
        for w in windows
        if w.start < end and w.end > start
    )
    merged: list[Interval] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def excluded_seconds(intervals: Iterable[Interval]) -> int:
    """Total length of ``intervals`` in whole seconds."""
    return int(sum((hi - lo).total_seconds() for lo, hi in intervals))
