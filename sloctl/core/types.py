"""Plain value types shared by the pure core, the engine, the store and the presenters.

Everything here is immutable data: no I/O, no clock. Times are timezone-aware UTC ``datetime``;
durations are whole seconds (``int``). A measurement that could not be made is ``None`` together
with a human-readable ``reason`` -- never a fake zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The alert windows of the SRE workbook's multiwindow multi-burn-rate table, in seconds.
ALERT_WINDOWS: tuple[int, ...] = (300, 1800, 3600, 7200, 21600, 86400, 259200)


def window_name(seconds: int) -> str:
    """Prometheus-style name of a duration: 300 -> '5m', 86400 -> '1d', 2419200 -> '28d'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Severity(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


@dataclass(frozen=True)
class BurnRateRule:
    """One row of the multiwindow multi-burn-rate table: fire when both windows burn > factor."""

    severity: Severity
    long_window: int
    short_window: int
    factor: float


# SRE workbook, ch. 5, table 5-8 plus the 1d/2h ticket pair of iteration 6. Kept as data.
DEFAULT_BURN_RATE_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule(Severity.PAGE, 3600, 300, 14.4),
    BurnRateRule(Severity.PAGE, 21600, 1800, 6.0),
    BurnRateRule(Severity.TICKET, 86400, 7200, 3.0),
    BurnRateRule(Severity.TICKET, 259200, 21600, 1.0),
)


@dataclass(frozen=True)
class WindowCounts:
    """Event counts of one SLO over one window, as measured (``increase()`` over the window).

    ``bad`` and ``total`` are ``None`` when unknown (``reason`` says why). ``coverage`` is the
    fraction of the window that has data (0..1), ``None`` if unknown. ``interpolated`` is True when
    a latency threshold fell between histogram buckets and ``bad`` was interpolated.
    """

    window: int
    bad: float | None
    total: float | None
    coverage: float | None = None
    interpolated: bool = False
    reason: str | None = None


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


@dataclass(frozen=True)
class BurnRateDecision:
    """Outcome of one multiwindow burn-rate rule for one SLO."""

    rule: BurnRateRule
    long_burn: float | None
    short_burn: float | None
    firing: bool | None  # None when either window is unknown
    reason: str | None = None


@dataclass(frozen=True)
class SLOStatus:
    """Everything computed for one SLO at one evaluation instant."""

    slo_id: str  # "<service>/<name>"
    service: str
    name: str
    objective: float  # ratio 0..1, e.g. 0.995
    period: int  # SLO window length in seconds (calendar month: its full length)
    period_elapsed: int  # seconds of the period covered by the SLO window query
    at: datetime
    sli: float | None  # over the SLO window
    error_budget: float  # 1 - objective
    budget_remaining: float | None  # share of the budget left, 1 - e(T)/EB (may go negative)
    budget_total_minutes: float  # EB * period in minutes
    budget_remaining_minutes: float | None
    budget_remaining_events: float | None  # EB * total(T) - bad(T)
    windows: tuple[WindowResult, ...]  # alert windows then the SLO window (last)
    decisions: tuple[BurnRateDecision, ...]
    exhaustion_at: datetime | None  # projected budget exhaustion at the current burn rate
    breaching: bool | None  # sli < objective over the SLO window
    reason: str | None = None  # why values are unknown, if they are

    def window(self, seconds: int) -> WindowResult | None:
        """The result for one window length, if computed."""
        return next((w for w in self.windows if w.window == seconds), None)


class Signal(StrEnum):
    TRAFFIC = "traffic"  # requests per second
    ERROR_RATIO = "error_ratio"  # 0..1
    LATENCY_P50 = "latency_p50"  # seconds
    LATENCY_P95 = "latency_p95"
    LATENCY_P99 = "latency_p99"
    SATURATION = "saturation"  # configurable query, default process CPU (cores)


@dataclass(frozen=True)
class SignalValue:
    """One golden signal of one service at one instant."""

    service: str
    signal: Signal
    value: float | None
    reason: str | None = None


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertStatus:
    """State of one alert instance (rule x service, or burn-rate rule x SLO)."""

    key: str  # stable identity, e.g. "error_ratio/order" or "burn_rate:page/order/availability"
    rule: str
    service: str
    slo_id: str | None
    severity: str
    state: AlertState
    value: float | None  # the measured value of the last evaluation
    threshold: float
    active_since: datetime | None  # when the condition started holding (pending/firing)
    fired_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime
    reason: str | None = None  # set when the last evaluation could not decide
    labels: dict[str, str] = field(default_factory=dict)


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

    @property
    def complete(self) -> bool:
        """True when every value could be computed."""
        return not self.problems
