"""Resolved SLO specs: what the engine, rule generator and presenters consume.

These are plain frozen values, independent of the file format they were loaded from (sloctl/v1,
presets, shorthands). Label selectors exclude the service matcher: the engine groups every query
by ``service_label`` and picks the series of ``service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sloctl.core.maintenance import Maintenance
from sloctl.core.windows import window_name
from sloctl.spec.canary_layout import CanaryLayout

MatchOp = Literal["=", "!=", "=~", "!~"]


@dataclass(frozen=True)
class Matcher:
    """One PromQL label matcher, e.g. ``Matcher("code", "=~", "5..")``."""

    label: str
    op: MatchOp
    value: str


@dataclass(frozen=True)
class MetricRatio:
    """Bad/total ratio over one counter: total = ``metric{selector}``, bad adds ``error_selector``.

    Structured, so the engine can batch every SLO on the same counter into one query.
    """

    metric: str
    selector: tuple[Matcher, ...]
    error_selector: tuple[Matcher, ...]


@dataclass(frozen=True)
class QueryRatio:
    """Raw PromQL templates containing ``{{window}}``; exactly one of ``bad``/``good`` is set.

    Each query returns one series per service, grouped by the SLO's ``service_label``. With
    ``ungrouped`` (Sloth and OpenSLO imports), the queries already select the SLO's own series:
    every row they return counts, summed, and none is picked by the service label.
    """

    total: str
    bad: str | None
    good: str | None
    ungrouped: bool = False


@dataclass(frozen=True)
class HistogramLatency:
    """Share of requests slower than ``threshold`` seconds, from a histogram's buckets.

    ``metric`` is the base name (``http_server_request_duration_seconds``, without ``_bucket``).
    ``unit`` is the histogram's unit in seconds (0.001 for a ``_milliseconds`` histogram): bucket
    bounds are ``threshold / unit`` in the histogram's own unit (300 ms -> ``le="300"``).
    """

    metric: str
    selector: tuple[Matcher, ...]
    threshold: float
    unit: float = 1.0

    @property
    def bound(self) -> float:
        """The threshold in the histogram's unit, exactly (0.3 s in milliseconds is 300)."""
        return in_unit(self.threshold, self.unit)


def in_unit(seconds: float, unit: float) -> float:
    """``seconds`` expressed in a unit of ``unit`` seconds, without float noise (0.3 / 0.001)."""
    return float(Decimal(repr(seconds)) / Decimal(repr(unit)))


# Histogram units by metric-name suffix (OpenTelemetry and Prometheus naming), in seconds.
UNIT_SUFFIXES: tuple[tuple[str, float], ...] = (
    ("_seconds", 1.0),
    ("_milliseconds", 0.001),
    ("_microseconds", 0.000001),
    ("_nanoseconds", 0.000000001),
    ("_ms", 0.001),
)


def unit_of(metric: str) -> float | None:
    """The unit of a duration histogram from its name (``_milliseconds`` -> 0.001), or None."""
    for suffix, unit in UNIT_SUFFIXES:
        if metric.endswith(suffix):
            return unit
    return None


# Where a series' service name lives when the series itself lacks it: OpenTelemetry SDKs put
# service.name on ``target_info`` only (one series per scrape target), joined on these labels.
TARGET_INFO = "target_info"
TARGET_INFO_JOIN: tuple[str, str] = ("job", "instance")


@dataclass(frozen=True)
class ServiceIdentity:
    """Which label names a series' service, and whether it may come from ``target_info``.

    With ``target_info`` True, series that carry ``label`` keep it and the others take it from
    ``target_info`` joined on (job, instance) -- the OpenTelemetry SDK's Prometheus exporter,
    scraped directly, writes ``service.name`` only there.
    """

    label: str
    target_info: bool = False

    def describe(self) -> str:
        """``label service_name`` or ``label service_name, else from target_info``."""
        more = f", else from {TARGET_INFO} on ({', '.join(TARGET_INFO_JOIN)})"
        return f"label {self.label}" + (more if self.target_info else "")


@dataclass(frozen=True)
class LogRatio:
    """Share of error log lines in Loki: total = every line of ``selector``, bad = the lines that
    also match ``error_filter`` (substring, LogQL ``|=``) or ``error_regex`` (RE2, ``|~``).

    Exactly one of ``error_filter``/``error_regex`` is set. ``selector`` excludes the service
    matcher: log SLIs are counted per service with ``sum by (<service label>)``.
    """

    selector: tuple[Matcher, ...]
    error_filter: str | None = None
    error_regex: str | None = None


Indicator = MetricRatio | QueryRatio | HistogramLatency | LogRatio


@dataclass(frozen=True)
class Window:
    """The SLO window: rolling ``seconds`` or the calendar month; exactly one is set."""

    seconds: int | None
    calendar: Literal["month"] | None = None

    @property
    def name(self) -> str:
        """``"28d"``, ``"1h"`` or ``"calendar-month"``."""
        if self.calendar is not None:
            return f"calendar-{self.calendar}"
        assert self.seconds is not None
        return window_name(self.seconds)

    @property
    def is_calendar(self) -> bool:
        return self.calendar is not None


@dataclass(frozen=True)
class SLOSpec:
    """One SLO, fully resolved. ``objective`` is a percentage (99.5); see ``objective_ratio``."""

    service: str
    name: str
    objective: float
    window: Window
    service_label: str
    indicator: Indicator
    labels: tuple[tuple[str, str], ...] = ()
    service_from_target_info: bool = False  # see ServiceIdentity
    preset: str = ""  # the HTTP preset the indicator came from ("" for a hand-written one)
    canary: CanaryLayout | None = None  # how its canary's series differ (sloctl canary)
    maintenance: tuple[Maintenance, ...] = ()  # windows excluded from attainment and budget
    alerting: bool = True
    description: str = ""
    spec_format: str = "sloctl/v1"  # the format it was loaded from: sloth_slo_info's sloth_spec
    source: str = ""  # file path the SLO was loaded from
    line: int = 0  # 1-based line of the SLO's name (or service entry) in ``source``

    @property
    def identity(self) -> ServiceIdentity:
        """Where this SLO's series name their service."""
        return ServiceIdentity(self.service_label, self.service_from_target_info)

    @property
    def slo_id(self) -> str:
        """``"<service>/<name>"``, unique across all loaded specs."""
        return f"{self.service}/{self.name}"

    @property
    def objective_ratio(self) -> float:
        """The objective as a ratio: 99.9 -> 0.999 (exactly, without float noise)."""
        return float(Decimal(str(self.objective)) / 100)

    @property
    def error_budget(self) -> float:
        """``1 - objective_ratio``: 99.9 -> 0.001 (exactly, without float noise)."""
        return float(1 - Decimal(str(self.objective)) / 100)

    @property
    def labels_dict(self) -> dict[str, str]:
        """The user labels as a new dict."""
        return dict(self.labels)

    @property
    def indicator_kind(self) -> Literal["ratio", "query", "latency", "logs"]:
        """``"ratio"`` (MetricRatio), ``"query"`` (QueryRatio), ``"latency"`` or ``"logs"``."""
        if isinstance(self.indicator, MetricRatio):
            return "ratio"
        if isinstance(self.indicator, QueryRatio):
            return "query"
        if isinstance(self.indicator, LogRatio):
            return "logs"
        return "latency"
