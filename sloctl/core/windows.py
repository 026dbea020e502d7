"""Window lengths and what one SLO measures over one window (counts in, SLI and burn out)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The alert windows of the SRE workbook's multiwindow multi-burn-rate table, in seconds.
ALERT_WINDOWS: tuple[int, ...] = (300, 1800, 3600, 7200, 21600, 86400, 259200)


def window_name(seconds: int) -> str:
    """Prometheus-style name of a duration: 300 -> '5m', 86400 -> '1d', 2419200 -> '28d'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class DataState(StrEnum):
    """What the backend had for one window: the reason behind a value, or behind its absence."""

    OK = "ok"  # events counted
    NO_TRAFFIC = "no_traffic"  # the series exist but counted no event in the window
    NO_DATA = "no_data"  # no series matched the selector in the window
    FAILED = "failed"  # the backend could not answer (error, timeout, unreachable)


@dataclass(frozen=True)
class WindowCounts:
    """Event counts of one SLO over one window, as measured (``increase()`` over the window).

    ``bad`` and ``total`` are ``None`` when unknown (``reason`` says why). ``coverage`` is the
    fraction of the window that has data (0..1), ``None`` if unknown. ``interpolated`` is True when
    a latency threshold fell between histogram buckets and ``bad`` was interpolated. ``state``
    says why counts are missing: ``NO_DATA`` (no series) or ``FAILED`` (the default when unknown).
    """

    window: int
    bad: float | None
    total: float | None
    coverage: float | None = None
    interpolated: bool = False
    reason: str | None = None
    state: DataState | None = None  # None: OK when counted, FAILED when not


@dataclass(frozen=True)
class WindowResult:
    """SLI and burn rate of one SLO over one window."""

    window: int
    sli: float | None  # good / total, 0..1
    error_ratio: float | None  # bad / total
    burn_rate: float | None  # error_ratio / error_budget
    total: float | None
    bad: float | None
    coverage: float | None
    interpolated: bool = False
    reason: str | None = None
    state: DataState = DataState.OK
