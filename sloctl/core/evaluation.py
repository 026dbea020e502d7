"""One evaluation cycle's results: every SLO, golden signal and alert computed at one instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sloctl.core.alerts import AlertStatus
from sloctl.core.signals import SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.trace_compare import SpanComparison

# Problems of a cycle that are not backend errors: an SLO or a service's signals whose
# selectors match no series at all (sloctl is blind to them).
NO_DATA_PREFIX = "no data: "
# Observations that are neither errors nor blindness, e.g. an interpolated latency SLI.
NOTE_PREFIX = "note: "


@dataclass(frozen=True)
class Evaluation:
    """One evaluation cycle: every result computed at one instant ``at``.

    ``started_at``/``finished_at`` are wall-clock times of the run (``at`` may be in the past for
    ``sloctl eval --at``). ``problems`` lists what went wrong (backend errors), one line each;
    ``query_count`` is the number of backend queries the cycle issued.
    """

    at: datetime
    started_at: datetime
    finished_at: datetime
    slos: tuple[SLOStatus, ...]
    signals: tuple[SignalValue, ...]
    alerts: tuple[AlertStatus, ...]
    problems: tuple[str, ...] = ()
    query_count: int = 0
    # HTTP metrics vs span metrics, when the cycle planned that check (not stored with it)
    span_check: SpanComparison | None = None

    @property
    def complete(self) -> bool:
        """True when every value could be computed."""
        return not self.problems

    @property
    def blind(self) -> tuple[str, ...]:
        """The "no data" problems: SLOs or signals whose selectors match no series."""
        return tuple(p for p in self.problems if p.startswith(NO_DATA_PREFIX))

    @property
    def notes(self) -> tuple[str, ...]:
        """Warnings that make no value unknown, e.g. an SLI interpolated between buckets."""
        return tuple(p for p in self.problems if p.startswith(NOTE_PREFIX))

    @property
    def backend_errors(self) -> tuple[str, ...]:
        """The problems that are backend errors (failed, malformed or unanswered queries)."""
        return tuple(
            p for p in self.problems if not p.startswith((NO_DATA_PREFIX, NOTE_PREFIX))
        )
