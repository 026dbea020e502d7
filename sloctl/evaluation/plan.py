"""The query plan of one evaluation cycle: which PromQL each SLO and signal needs.

Queries are keyed by their text, so SLOs and signals that share a metric share queries: the
number of queries grows with distinct (metric, selector, window), never with the number of SLOs.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sloctl.core.windows import ALERT_WINDOWS
from sloctl.settings import Settings
from sloctl.sources import promql
from sloctl.spec.models import (
    HistogramLatency,
    LogRatio,
    Matcher,
    MetricRatio,
    QueryRatio,
    SLOSpec,
)

SIGNAL_WINDOW = 300


@dataclass(frozen=True)
class WindowQueries:
    """Queries giving one SLO's bad and total events over one window."""

    window: int
    total: str | None = None  # ratio indicators
    bad: str | None = None
    good: str | None = None
    buckets: str | None = None  # latency: only the threshold buckets and +Inf
    all_buckets: str | None = None  # latency fallback when a threshold is not a bucket bound


@dataclass(frozen=True)
class SloPlan:
    """Everything needed to evaluate one SLO at one instant."""

    spec: SLOSpec
    period: int  # full SLO period in seconds (calendar month: its length)
    slo_window: int  # the window queried for the SLO period (calendar month: elapsed part)
    windows: tuple[WindowQueries, ...]
    coverage: str


@dataclass(frozen=True)
class SignalQueries:
    """Golden-signal queries over one window for every service (one query each)."""

    window: int
    service_label: str
    total: str
    bad: str
    buckets: str
    saturation: str


@dataclass
class CyclePlan:
    """All queries of a cycle, deduplicated."""

    at: datetime
    slos: list[SloPlan] = field(default_factory=list)
    signals: dict[int, SignalQueries] = field(default_factory=dict)

    def queries(self) -> list[str]:
        """Distinct query texts, in a stable order."""
        out: list[str] = []
        for p in self.slos:
            for w in p.windows:
                out += [q for q in (w.total, w.bad, w.good, w.buckets) if q]
            out.append(p.coverage)
        for s in self.signals.values():
            out += [s.total, s.bad, s.buckets, s.saturation]
        return list(dict.fromkeys(out))


def period_of(spec: SLOSpec, at: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """(period length, queried window) in seconds; a calendar month runs in ``tz``."""
    if spec.window.seconds is not None:
        return spec.window.seconds, spec.window.seconds
    local = at.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(local.year, local.month)[1]
    elapsed = int((local - start).total_seconds())
    return days * 86400, max(elapsed, 60)


def _window_queries(
    spec: SLOSpec, window: int, thresholds: Mapping[tuple[object, ...], set[float]]
) -> WindowQueries:
    ind = spec.indicator
    label = spec.service_label
    if isinstance(ind, MetricRatio):
        return WindowQueries(
            window,
            total=promql.ratio_total(ind, label, window),
            bad=promql.ratio_bad(ind, label, window),
        )
    if isinstance(ind, QueryRatio):
        bad, good, total = promql.query_ratio(ind, window)
        return WindowQueries(window, total=total, bad=bad, good=good)
    if isinstance(ind, HistogramLatency):
        shared = thresholds.get(_latency_key(spec), {ind.threshold})
        return WindowQueries(
            window,
            buckets=promql.threshold_buckets(ind.metric, ind.selector, label, window, shared),
            all_buckets=promql.latency_buckets(ind, label, window),
        )
    raise TypeError(f"unknown indicator {type(ind).__name__}")


def _coverage_query(spec: SLOSpec, windows: tuple[int, ...]) -> str:
    ind = spec.indicator
    if isinstance(ind, MetricRatio):
        metric, matchers = ind.metric, ind.selector
    elif isinstance(ind, HistogramLatency):
        metric, matchers = promql.latency_total_metric(ind), ind.selector
    elif isinstance(ind, LogRatio):
        raise TypeError("log SLIs are measured from Loki by sloctl.evaluation.log_slis")
    else:  # raw PromQL: coverage of the total query's result over time
        return " or ".join(
            f'label_replace(min_over_time(timestamp({promql.render_template(ind.total, 300)})'
            f'[{promql.duration(w)}:{promql.duration(max(w // 100, 300))}]), '
            f'"sloctl_window", "{w}", "", "")'
            for w in windows
        )
    return promql.coverage(metric, matchers, spec.service_label, windows)


def _latency_key(spec: SLOSpec) -> tuple[object, ...]:
    ind = spec.indicator
    assert isinstance(ind, HistogramLatency)
    return (ind.metric, ind.selector, spec.service_label)


def shared_thresholds(specs: Sequence[SLOSpec]) -> dict[tuple[object, ...], set[float]]:
    """Thresholds of all latency SLOs on the same histogram: one bucket query serves them all."""
    out: dict[tuple[object, ...], set[float]] = {}
    for spec in specs:
        if isinstance(spec.indicator, HistogramLatency):
            out.setdefault(_latency_key(spec), set()).add(spec.indicator.threshold)
    return out


def plan_slo(
    spec: SLOSpec, at: datetime, tz: ZoneInfo,
    thresholds: Mapping[tuple[object, ...], set[float]] | None = None,
) -> SloPlan:
    """Queries for one SLO: every alert window plus its period window."""
    period, slo_window = period_of(spec, at, tz)
    windows = tuple(dict.fromkeys((*ALERT_WINDOWS, slo_window)))
    shared = thresholds if thresholds is not None else shared_thresholds([spec])
    return SloPlan(
        spec=spec,
        period=period,
        slo_window=slo_window,
        windows=tuple(_window_queries(spec, w, shared) for w in windows),
        coverage=_coverage_query(spec, windows),
    )


def plan_signals(settings: Settings, window: int) -> SignalQueries:
    """Golden-signal queries for all services over ``window``."""
    preset = settings.signals.http_preset
    label = settings.signals.effective_service_label
    errors = (Matcher(preset.status_label, "=~", preset.error_regex),)
    sat = settings.signals.effective_saturation_query
    if label != preset.service_label and not settings.signals.saturation_query:
        sat = sat.replace(f"by ({preset.service_label})", f"by ({label})")
    return SignalQueries(
        window=window,
        service_label=label,
        total=promql.increase_by(preset.counter, (), [label], window),
        bad=promql.increase_by(preset.counter, errors, [label], window),
        buckets=promql.buckets(preset.histogram, (), label, window),
        saturation=promql.rate_template(sat, window),
    )


def plan_cycle(specs: list[SLOSpec], settings: Settings, at: datetime) -> CyclePlan:
    """The full plan of one cycle at instant ``at``."""
    tz = settings.tzinfo
    prom_specs = [s for s in specs if not isinstance(s.indicator, LogRatio)]  # Loki: log_slis
    thresholds = shared_thresholds(prom_specs)
    plan = CyclePlan(at=at, slos=[plan_slo(s, at, tz, thresholds) for s in prom_specs])
    signal_windows = {SIGNAL_WINDOW}
    for rule in (settings.default_alerts.error_ratio, settings.default_alerts.latency_p95):
        if rule.enabled:
            signal_windows.add(rule.window_seconds)
    for w in sorted(signal_windows):
        plan.signals[w] = plan_signals(settings, w)
    return plan
