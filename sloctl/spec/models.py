"""Resolved SLO specs: what the engine, rule generator and presenters consume.

These are plain frozen values, independent of the file format they were loaded from (sloctl/v1,
presets, shorthands). Label selectors exclude the service matcher: the engine groups every query
by ``service_label`` and picks the series of ``service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sloctl.core.windows import window_name

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

    Each query returns one series per service, grouped by the SLO's ``service_label``.
    """

    total: str
    bad: str | None
    good: str | None


@dataclass(frozen=True)
class HistogramLatency:
    """Share of requests slower than ``threshold`` seconds, from a histogram's buckets.

    ``metric`` is the base name (``http_server_request_duration_seconds``, without ``_bucket``).
    """

    metric: str
    selector: tuple[Matcher, ...]
    threshold: float


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
    alerting: bool = True
    description: str = ""
    source: str = ""  # file path the SLO was loaded from
    line: int = 0  # 1-based line of the SLO's name (or service entry) in ``source``

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
