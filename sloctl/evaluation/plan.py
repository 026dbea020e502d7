"""The plan of one evaluation cycle: every query each SLO and golden signal needs, per backend.

Queries are keyed by (backend, text), so SLOs and signals that share a metric share queries: the
number of queries grows with distinct (metric, selector, window), never with the number of SLOs.
Prometheus and Loki queries are planned together and fetched together.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sloctl.core.burn import THIRTY_DAYS
from sloctl.core.maintenance import Maintenance, excluded_intervals
from sloctl.core.windows import ALERT_WINDOWS
from sloctl.settings import Settings
from sloctl.sources import logql, promql, span_metrics
from sloctl.spec.models import (
    HistogramLatency,
    LogRatio,
    Matcher,
    MetricRatio,
    QueryRatio,
    ServiceIdentity,
    SLOSpec,
)
from sloctl.spec.presets import get_preset

SIGNAL_WINDOW = 300
LONGEST_CALENDAR = 31 * 86400  # a calendar-month SLO's window, at most
Backend = Literal["prometheus", "loki"]


@dataclass(frozen=True, order=True)
class Query:
    """One query text for one backend."""

    backend: Backend
    text: str


def prom(text: str) -> Query:
    return Query("prometheus", text)


@dataclass(frozen=True)
class Excluded:
    """The same counts over one maintenance interval inside a window (``@ end``), subtracted."""

    start: datetime
    end: datetime
    queries: WindowQueries


@dataclass(frozen=True)
class WindowQueries:
    """Queries giving one SLO's bad and total events over one window."""

    window: int
    total: Query | None = None  # ratio and log indicators
    bad: Query | None = None
    good: Query | None = None
    buckets: Query | None = None  # latency: only the threshold buckets and +Inf
    all_buckets: Query | None = None  # latency fallback when a threshold is not a bucket bound
    excluded: tuple[Excluded, ...] = ()  # maintenance intervals inside this window
    unexcluded: tuple[str, ...] = ()  # maintenance that could not be excluded, and why


@dataclass(frozen=True)
class SloPlan:
    """Everything needed to evaluate one SLO at one instant."""

    spec: SLOSpec
    period: int  # full SLO period in seconds (calendar month: its length)
    slo_window: int  # the window queried for the SLO period (calendar month: elapsed part)
    windows: tuple[WindowQueries, ...]
    coverage: Query | None  # steps with data per window (Prometheus SLOs only)
    maintenance: tuple[Maintenance, ...] = ()  # the windows that apply to this SLO

    @property
    def rule_period(self) -> int:
        """The period the burn-rate factors use: as the generated rules, 30 d for a calendar
        month (Prometheus rules cannot follow calendar months)."""
        return THIRTY_DAYS if self.spec.window.is_calendar else self.period


@dataclass(frozen=True)
class SignalQueries:
    """Golden-signal queries of one preset over one window for all its services (one each).

    ``services`` are the services of the specs that use this preset (their signals come from
    it); the settings' preset (``default``) also serves every other service it finds.
    """

    window: int
    preset: str
    services: frozenset[str]
    default: bool
    identity: ServiceIdentity
    unit: float  # the latency histogram's unit in seconds
    total: Query
    bad: Query
    buckets: Query
    saturation: Query
    coverage: Query  # steps with data of the request counter over this window


@dataclass
class CyclePlan:
    """All queries of a cycle, deduplicated."""

    at: datetime
    slos: list[SloPlan] = field(default_factory=list)
    signals: dict[int, tuple[SignalQueries, ...]] = field(default_factory=dict)
    span_check: tuple[Query, ...] = ()  # server-span calls and failed calls per service (5m)

    def queries(self) -> list[Query]:
        """Distinct queries, in a stable order."""
        out: list[Query] = []
        for p in self.slos:
            for w in p.windows:
                out += [q for q in (w.total, w.bad, w.good, w.buckets) if q]
                for x in w.excluded:
                    out += [q for q in (x.queries.total, x.queries.bad, x.queries.good,
                                        x.queries.buckets) if q]
            if p.coverage:
                out.append(p.coverage)
        for groups in self.signals.values():
            for s in groups:
                out += [s.total, s.bad, s.buckets, s.saturation, s.coverage]
        out += self.span_check
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


LatencyKey = tuple[object, ...]


def _latency_key(spec: SLOSpec) -> LatencyKey:
    ind = spec.indicator
    assert isinstance(ind, HistogramLatency)
    return (ind.metric, ind.selector, spec.identity)


def shared_bounds(specs: Sequence[SLOSpec]) -> dict[LatencyKey, set[float]]:
    """Bounds of every latency SLO on one histogram: one bucket query serves them all."""
    out: dict[LatencyKey, set[float]] = {}
    for spec in specs:
        if isinstance(spec.indicator, HistogramLatency):
            out.setdefault(_latency_key(spec), set()).add(spec.indicator.bound)
    return out


def log_groups(specs: Sequence[SLOSpec]) -> dict[tuple[LogRatio, str], set[str]]:
    groups: dict[tuple[LogRatio, str], set[str]] = {}
    for spec in specs:
        if isinstance(spec.indicator, LogRatio):
            groups.setdefault((spec.indicator, spec.service_label), set()).add(spec.service)
    return groups


def longest_window(specs: Sequence[SLOSpec]) -> int:
    """The longest SLO window of ``specs`` in seconds (a calendar month counts 31 days): how
    far back maintenance can touch what they query."""
    return max((s.window.seconds or LONGEST_CALENDAR for s in specs), default=0)


def plan_window(
    spec: SLOSpec,
    window: int,
    bounds: Mapping[LatencyKey, set[float]],
    log_services: Mapping[tuple[LogRatio, str], set[str]],
    at: int | None = None,
) -> WindowQueries:
    """The queries of one window (``at``: ending at that unix second, for exclusions)."""
    ind = spec.indicator
    identity = spec.identity
    if isinstance(ind, MetricRatio):
        return WindowQueries(
            window,
            total=prom(promql.ratio_total(ind, identity, window, at)),
            bad=prom(promql.ratio_bad(ind, identity, window, at)),
        )
    if isinstance(ind, QueryRatio):
        bad, good, total = promql.query_ratio(ind, window, at)
        return WindowQueries(
            window,
            total=prom(total),
            bad=prom(bad) if bad else None,
            good=prom(good) if good else None,
        )
    if isinstance(ind, HistogramLatency):
        if at is not None:  # an exclusion: the whole histogram, exact or interpolated as it is
            return WindowQueries(window, buckets=prom(
                promql.latency_buckets(ind, identity, window, at)))
        shared = bounds.get(_latency_key(spec), {ind.bound})
        return WindowQueries(
            window,
            buckets=prom(
                promql.threshold_buckets(ind.metric, ind.selector, identity, window, shared)
            ),
            all_buckets=prom(promql.latency_buckets(ind, identity, window)),
        )
    services = log_services[(ind, spec.service_label)]
    return WindowQueries(
        window,
        total=Query("loki", logql.log_ratio_total(ind, spec.service_label, services, window)),
        bad=Query("loki", logql.log_ratio_bad(ind, spec.service_label, services, window)),
    )


PlanCache = dict[tuple[object, ...], object]


def _share_key(
    spec: SLOSpec,
    bounds: Mapping[LatencyKey, set[float]],
    log_services: Mapping[tuple[LogRatio, str], set[str]],
) -> tuple[object, ...]:
    """What an SLO's queries depend on besides the window: never its service (queries are
    grouped by the service label), so the SLOs of every service on one metric share them."""
    ind = spec.indicator
    extra: object = None
    if isinstance(ind, HistogramLatency):
        extra = frozenset(bounds.get(_latency_key(spec), {ind.bound}))
    elif isinstance(ind, LogRatio):
        extra = frozenset(log_services.get((ind, spec.service_label), ()))
    return (ind, spec.identity, spec.service_label, extra)


def shared_window(
    spec: SLOSpec,
    window: int,
    bounds: Mapping[LatencyKey, set[float]],
    log_services: Mapping[tuple[LogRatio, str], set[str]],
    cache: PlanCache | None,
    share: tuple[object, ...] = (),
) -> WindowQueries:
    """``plan_window`` (ending at the cycle's instant), built once per ``cache`` for every SLO
    with the same indicator (``share``: its ``_share_key``): 20,000 SLOs on two metrics build
    16 windows' queries, not 160,000."""
    if cache is None:
        return plan_window(spec, window, bounds, log_services)
    key = ("window", window, *(share or _share_key(spec, bounds, log_services)))
    found = cache.get(key)
    if found is None:
        found = cache[key] = plan_window(spec, window, bounds, log_services)
    assert isinstance(found, WindowQueries)
    return found


def plan_coverage(spec: SLOSpec, windows: tuple[int, ...], lookback: int) -> Query | None:
    ind = spec.indicator
    if isinstance(ind, MetricRatio):
        metric, matchers = ind.metric, ind.selector
    elif isinstance(ind, HistogramLatency):
        metric, matchers = promql.latency_total_metric(ind), ind.selector
    elif isinstance(ind, LogRatio):
        return None  # Loki has no scrape gaps to measure
    else:  # raw PromQL: steps where the total query returns the service (or, ungrouped, any)
        return prom(promql.template_coverage(ind.total, spec.service_label, windows,
                                             ungrouped=ind.ungrouped))
    return prom(promql.coverage(metric, matchers, spec.identity, windows, lookback))


def plan_slo(
    spec: SLOSpec,
    at: datetime,
    tz: ZoneInfo,
    bounds: Mapping[LatencyKey, set[float]] | None = None,
    log_services: Mapping[tuple[LogRatio, str], set[str]] | None = None,
    lookback: int = 120,
    maintenance: Sequence[Maintenance] = (),
    cache: PlanCache | None = None,
) -> SloPlan:
    """Queries for one SLO: every alert window plus its period window, and the counts of the
    maintenance intervals inside each window (to subtract). ``cache`` (one per cycle) shares
    the queries of SLOs on the same indicator instead of building each SLO's anew."""
    period, slo_window = period_of(spec, at, tz)
    windows = tuple(dict.fromkeys((*ALERT_WINDOWS, slo_window)))
    bounds = bounds if bounds is not None else shared_bounds([spec])
    log_services = log_services if log_services is not None else log_groups([spec])
    applicable = [
        m for m in (*spec.maintenance, *maintenance) if m.applies_to(spec.service, spec.slo_id)
    ]
    share = _share_key(spec, bounds, log_services) if cache is not None else ()
    coverage_key = ("coverage", windows, lookback, *share)
    if cache is not None and coverage_key in cache:
        coverage = cache[coverage_key]
        assert coverage is None or isinstance(coverage, Query)
    else:
        coverage = plan_coverage(spec, windows, lookback)
        if cache is not None:
            cache[coverage_key] = coverage
    return SloPlan(
        spec=spec,
        period=period,
        slo_window=slo_window,
        windows=tuple(
            with_exclusions(shared_window(spec, w, bounds, log_services, cache, share), spec,
                            applicable, at, bounds, log_services)
            for w in windows
        ),
        coverage=coverage,
        maintenance=tuple(applicable),
    )


def with_exclusions(
    wq: WindowQueries,
    spec: SLOSpec,
    maintenance: Sequence[Maintenance],
    at: datetime,
    bounds: Mapping[LatencyKey, set[float]],
    log_services: Mapping[tuple[LogRatio, str], set[str]],
) -> WindowQueries:
    """``wq`` with the queries of the maintenance intervals inside its window."""
    intervals = excluded_intervals(maintenance, at - timedelta(seconds=wq.window), at)
    if not intervals:
        return wq
    if isinstance(spec.indicator, LogRatio):
        why = "log-based SLIs cannot exclude maintenance (Loki has no @ modifier here)"
        return replace(wq, unexcluded=(why,))
    excluded = []
    for lo, hi in intervals:
        seconds = int((hi - lo).total_seconds())
        if seconds < 1:
            continue
        try:
            queries = plan_window(spec, seconds, bounds, log_services, int(hi.timestamp()))
        except ValueError as exc:  # a raw template whose window is not a range selector
            return replace(wq, unexcluded=(str(exc),))
        excluded.append(Excluded(lo, hi, queries))
    return replace(wq, excluded=tuple(excluded))


def plan_signals(
    settings: Settings,
    window: int,
    group: tuple[str, ServiceIdentity] | None = None,
    services: Sequence[str] = (),
    default: bool = True,
) -> SignalQueries:
    """Golden-signal queries of one preset (default: ``signals.preset``) over ``window``."""
    name, identity = group or (settings.signals.preset, settings.signals.identity)
    preset = get_preset(name)
    label = identity.label
    errors = (Matcher(preset.status_label, "=~", preset.error_regex),)
    sat = preset.saturation_query
    if default and settings.signals.saturation_query:
        sat = settings.signals.saturation_query
    elif label != preset.service_label:
        sat = sat.replace(f"by ({preset.service_label})", f"by ({label})")
    base = preset.base_selector
    lookback = settings.prometheus.coverage_lookback_seconds
    return SignalQueries(
        window=window,
        preset=name,
        services=frozenset(services),
        default=default,
        identity=identity,
        unit=preset.unit,
        total=prom(promql.increase_by_service(preset.counter, base, identity, window)),
        bad=prom(promql.increase_by_service(preset.counter, (*base, *errors), identity, window)),
        buckets=prom(promql.buckets(preset.histogram, base, identity, window)),
        saturation=prom(promql.rate_template(sat, window)),
        coverage=prom(promql.coverage(preset.counter, base, identity, (window,), lookback)),
    )


def signal_windows(settings: Settings) -> list[int]:
    """The signal window shown (5m) plus the window of each enabled default alert."""
    windows = {SIGNAL_WINDOW}
    for rule in (settings.default_alerts.error_ratio, settings.default_alerts.latency_p95):
        if rule.enabled:
            windows.add(rule.window_seconds)
    return sorted(windows)


def plan_cycle(
    specs: Sequence[SLOSpec],
    settings: Settings,
    at: datetime,
    maintenance: Sequence[Maintenance] = (),
) -> CyclePlan:
    """The full plan of one cycle at instant ``at``: Prometheus and Loki queries together.

    ``maintenance``: windows made outside the specs (``sloctl maintenance``) besides theirs."""
    tz = settings.tzinfo
    bounds = shared_bounds(specs)
    log_services = log_groups(specs)
    lookback = settings.prometheus.coverage_lookback_seconds
    cache: PlanCache = {}
    plan = CyclePlan(
        at=at,
        slos=[plan_slo(s, at, tz, bounds, log_services, lookback, maintenance, cache)
              for s in specs],
    )
    if settings.jaeger.enabled and not settings.signals.preset.startswith("spanmetrics"):
        # HTTP vs span metrics (nothing to compare when the signals come from span metrics)
        plan.span_check = tuple(prom(q) for q in span_metrics.comparison_queries(SIGNAL_WINDOW))
    default, groups = settings.signals.groups(specs)
    for w in signal_windows(settings):
        plan.signals[w] = tuple(
            shared_coverage(plan_signals(settings, w, key, sorted(services), key == default),
                            plan.slos)
            for key, services in groups.items()
        )
    return plan


def shared_coverage(sq: SignalQueries, slos: Sequence[SloPlan]) -> SignalQueries:
    """``sq`` reading its coverage from an SLO's coverage query on the same request counter
    (an availability SLO of the preset without a selector), which covers the signal's window:
    one query fewer per cycle."""
    preset = get_preset(sq.preset)
    for p in slos:
        ind = p.spec.indicator
        if (
            p.coverage is not None
            and isinstance(ind, MetricRatio)
            and ind.metric == preset.counter
            and ind.selector == preset.base_selector
            and p.spec.identity == sq.identity
            and any(w.window == sq.window for w in p.windows)
        ):
            return replace(sq, coverage=p.coverage)
    return sq
