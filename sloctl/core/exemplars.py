"""Exemplar traces for a breaching SLO or a firing alert, as plain values.

``Exemplars`` is a frozen dataclass of strings and numbers: ``to_dict``/``from_dict``
round-trip it through JSON so the store can keep it next to an evaluation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TraceLink:
    """One exemplar trace with its Jaeger UI link."""

    trace_id: str
    root_service: str
    root_operation: str
    start: str  # RFC 3339, UTC
    duration_seconds: float
    spans: int
    errors: int  # error spans of the exemplar's service
    url: str


@dataclass(frozen=True)
class Exemplars:
    """The slowest and the failing traces of ``service`` between ``start`` and ``end``."""

    service: str
    start: str  # RFC 3339, UTC
    end: str
    slowest: tuple[TraceLink, ...]
    failing: tuple[TraceLink, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exemplars:
        """The inverse of ``to_dict``."""
        return cls(
            service=data["service"],
            start=data["start"],
            end=data["end"],
            slowest=tuple(TraceLink(**t) for t in data["slowest"]),
            failing=tuple(TraceLink(**t) for t in data["failing"]),
        )
