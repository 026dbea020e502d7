"""Turn a cycle's query results into SLO statuses, golden signals, alerts and problems (pure).

Input: the plan, the results of its queries (samples or the backend's error, per query), the
alert states before the cycle and the instant. No I/O, no clock: unit-tested with plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sloctl.core import histogram
from sloctl.core.alert_eval import Reading, SloAlerting, ThresholdRule, cycle_alerts
from sloctl.core.alerts import AlertStatus
from sloctl.core.burn import BurnRateRule, burn_rate_rules
from sloctl.core.evaluation import NO_DATA_PREFIX, NOTE_PREFIX
from sloctl.core.samples import Sample
from sloctl.core.signals import Signal, SignalValue, golden_signals
from sloctl.core.slo import SLOStatus, evaluate_slo
from sloctl.core.trace_compare import SpanComparison
from sloctl.core.windows import DataState, WindowCounts, window_name
from sloctl.errors import BackendError, BackendUnreachable
from sloctl.evaluation.plan import (
    SIGNAL_WINDOW,
    CyclePlan,
    Query,
    SignalQueries,
    SloPlan,
    WindowQueries,
)
from sloctl.sources import promql
from sloctl.sources.span_metrics import compare_results
from sloctl.spec.models import (
    TARGET_INFO,
    HistogramLatency,
    LogRatio,
    Matcher,
    MetricRatio,
    QueryRatio,
    ServiceIdentity,
    SLOSpec,
)

Outcome = Sequence[Sample] | BackendError
NO_DATA = DataState.NO_DATA


@dataclass(frozen=True)
class AlertConfig:
    """The alert rules a cycle evaluates besides each SLO's burn-rate alerts."""

    threshold_rules: tuple[ThresholdRule, ...] = ()
    min_short_coverage: float = 0.0
    min_long_coverage: float = 0.0


@dataclass(frozen=True)
class Assembled:
    """Everything one cycle computed."""

    slos: tuple[SLOStatus, ...]
    signals: tuple[SignalValue, ...]  # over the signal window (5m)
    alerts: tuple[AlertStatus, ...]
    problems: tuple[str, ...]  # backend errors, then "no data: ..." for blind SLOs and services
    unreachable: bool  # a backend could not be reached at all
    span_check: SpanComparison | None = None  # HTTP vs span metrics, when planned


class Results:
    """Query results indexed by (query, service label) -> service, built once per cycle.

    Picking one service's rows is then a dict lookup, so a cycle stays linear in the number of
    series even with thousands of SLOs sharing the same queries.
    """

    def __init__(self, raw: Mapping[Query, Outcome]) -> None:
        self.raw = raw
        self._index: dict[tuple[Query, str], dict[str, list[Sample]]] = {}

    def rows(self, query: Query | None, label: str, service: str) -> list[Sample] | str:
        """Samples of one service, or the reason they are unknown."""
        result = self.raw.get(query) if query is not None else None
        if result is None:
            return "query was not run"
        if isinstance(result, BackendError):
            return str(result)
        assert query is not None
        index = self._index.get((query, label))
        if index is None:
            index = {}
            for sample in result:
                index.setdefault(sample.labels.get(label, ""), []).append(sample)
            self._index[(query, label)] = index
        return index.get(service, [])

    def services(self, query: Query, label: str) -> set[str]:
        result = self.raw.get(query)
        if result is None or isinstance(result, BackendError):
            return set()
        return {s.labels[label] for s in result if s.labels.get(label)}

    def failed(self, query: Query) -> bool:
        return isinstance(self.raw.get(query), BackendError)


def _scalar(rows: list[Sample]) -> float | None:
    return sum(s.value for s in rows) if rows else None


def _buckets(rows: list[Sample]) -> list[tuple[float, float]]:
    """``(le, count)`` pairs; ``le`` parsed as a number whatever its spelling (250 or 250.0)."""
    by_le: dict[float, float] = {}
    for s in rows:
        try:
            le = float(s.labels.get("le", "nan"))
        except ValueError:
            continue
        if le == le:  # skip NaN
            by_le[le] = by_le.get(le, 0.0) + s.value
    return sorted(by_le.items())


def bucket_fallbacks(plan: CyclePlan, results: Mapping[Query, Outcome]) -> list[Query]:
    """Full-histogram queries for latency windows whose threshold is not a bucket bound.

    The first round asks only for the threshold buckets; interpolation needs the neighbours.
    """
    indexed = Results(results)
    out: dict[Query, None] = {}
    for p in plan.slos:
        ind = p.spec.indicator
        if not isinstance(ind, HistogramLatency):
            continue
        for w in p.windows:
            rows = indexed.rows(w.buckets, p.spec.service_label, p.spec.service)
            if isinstance(rows, str) or not rows or w.all_buckets is None:
                continue
            _, exact = histogram.good_below(_buckets(rows), ind.bound)
            if not exact:
                out[w.all_buckets] = None
    return list(out)


def row_key(spec: SLOSpec) -> tuple[str, str]:
    """(label, value) that picks ``spec``'s rows from a query's answer. Ungrouped queries
    (Sloth, OpenSLO) select the SLO's series themselves: every row counts, and ``("", "")``
    finds them all (no sample has a label named "", so all index under the value "")."""
    ind = spec.indicator
    if isinstance(ind, QueryRatio) and ind.ungrouped:
        return "", ""
    return spec.service_label, spec.service


def slo_coverage(query: Query | None, spec: SLOSpec, results: Results) -> dict[int, float] | None:
    """``coverage`` of one SLO's coverage query, its rows picked by ``row_key``."""
    return coverage(query, *row_key(spec), results)


def coverage(
    query: Query | None, label: str, service: str, results: Results
) -> dict[int, float] | None:
    """Share of each window's steps that had data; None when the coverage query failed."""
    if query is None:
        return None
    rows = results.rows(query, label, service)
    if isinstance(rows, str):
        return None
    out: dict[int, float] = {}
    for s in rows:
        try:
            w = int(s.labels[promql.COVERAGE_LABEL])
        except (KeyError, ValueError):
            continue
        steps = w / promql.coverage_step(w)
        out[w] = min(max(s.value / steps, 0.0), 1.0)
    return out


def describe_selector(spec: SLOSpec) -> str:
    """The series an SLO reads, as a PromQL selector with its service: for no-data messages."""
    ind = spec.indicator
    svc = Matcher(spec.service_label, "=", spec.service)
    if isinstance(ind, MetricRatio):
        text = promql.selector(ind.metric, (*ind.selector, svc))
    elif isinstance(ind, HistogramLatency):
        text = promql.selector(promql.latency_total_metric(ind), (*ind.selector, svc))
    elif isinstance(ind, QueryRatio):
        if ind.ungrouped:
            return ind.total
        return f"{ind.total} for {spec.service_label}={spec.service!r}"
    else:
        text = f"Loki {{{', '.join(f'{m.label}{m.op}{m.value!r}' for m in (*ind.selector, svc))}}}"
    if spec.service_from_target_info:
        info = promql.selector(TARGET_INFO, (svc,))
        text += f" (or, without {spec.service_label}, those of the targets of {info})"
    return text


def _nothing_counted(window: int, coverage_of: float | None, no_series: str) -> WindowCounts:
    """No count for a window: no series at all, or (its coverage shows a sample) only one
    sample -- ``increase()`` needs two (a service scraped once so far, or one that stopped
    right at the window's start)."""
    if coverage_of:
        return WindowCounts(
            window, None, None, coverage_of, state=DataState.NO_TRAFFIC,
            reason=f"a single sample in {window_name(window)}: increase() needs two",
        )
    return WindowCounts(window, None, None, coverage_of, reason=no_series,
                        state=DataState.NO_DATA)


def window_counts(
    spec: SLOSpec, wq: WindowQueries, results: Results, coverage_of: float | None
) -> WindowCounts:
    """Bad and total events of one SLO over one window, or why they are unknown; events of the
    maintenance intervals inside the window are subtracted."""
    counts = _counted(spec, wq, results, coverage_of)
    if wq.unexcluded and counts.bad is not None:
        return WindowCounts(wq.window, None, None, coverage_of,
                            reason="maintenance not excluded: " + "; ".join(wq.unexcluded))
    if not wq.excluded or counts.bad is None or counts.total is None:
        return counts
    bad, total = counts.bad, counts.total
    for x in wq.excluded:
        part = _counted(spec, x.queries, results, None)
        quiet = part.state in (DataState.NO_DATA, DataState.NO_TRAFFIC)  # nothing to subtract
        if (part.bad is None or part.total is None) and not quiet:
            return WindowCounts(wq.window, None, None, coverage_of,
                                reason=f"cannot exclude maintenance: {part.reason}")
        bad -= part.bad or 0.0
        total -= part.total or 0.0
    return replace(counts, bad=max(bad, 0.0), total=max(total, 0.0))


def _counted(
    spec: SLOSpec, wq: WindowQueries, results: Results, coverage_of: float | None
) -> WindowCounts:
    """Bad and total events of one SLO over one window as queried, or why they are unknown."""
    window = wq.window
    label, service, wname = spec.service_label, spec.service, window_name(window)
    no_series = f'no series for {label}="{service}" over {wname}'
    if row_key(spec) != (label, service):
        no_series = f"no series from the total query over {wname}"
        label, service = row_key(spec)
    no_data = DataState.NO_DATA
    if isinstance(spec.indicator, HistogramLatency):
        rows = results.rows(wq.buckets, label, service)
        if wq.all_buckets is not None and wq.all_buckets in results.raw and not (
            isinstance(rows, list) and histogram.good_below(_buckets(rows), spec.indicator.bound)[1]
        ):  # the threshold is no bound here: interpolate in the whole histogram
            rows = results.rows(wq.all_buckets, label, service)
        if isinstance(rows, str):
            return WindowCounts(window, None, None, coverage_of, reason=rows)
        buckets = _buckets(rows)
        if not buckets:
            return _nothing_counted(window, coverage_of, no_series)
        total = histogram.total(buckets)
        good, exact = histogram.good_below(buckets, spec.indicator.bound)
        if total is None or good is None:
            return WindowCounts(window, None, None, coverage_of,
                                reason=no_series + " (no +Inf bucket)", state=no_data)
        return WindowCounts(window, max(total - good, 0.0), total, coverage_of,
                            interpolated=not exact)
    total_rows = results.rows(wq.total, label, service)
    if isinstance(total_rows, str):
        return WindowCounts(window, None, None, coverage_of, reason=total_rows)
    total = _scalar(total_rows)
    if total is None:
        if isinstance(spec.indicator, LogRatio):
            no_series = f'no log lines for {label}="{service}" over {wname}'
        return _nothing_counted(window, coverage_of, no_series)
    if wq.bad:
        bad_rows = results.rows(wq.bad, label, service)
        if isinstance(bad_rows, str):
            return WindowCounts(window, None, total, coverage_of, reason=bad_rows)
        bad = _scalar(bad_rows) or 0.0  # no error series at all means no errors
        return WindowCounts(window, bad, total, coverage_of)
    good_rows = results.rows(wq.good, label, service)
    if isinstance(good_rows, str):
        return WindowCounts(window, None, total, coverage_of, reason=good_rows)
    good = _scalar(good_rows)
    if good is None:
        return WindowCounts(window, None, total, coverage_of,
                            reason=no_series + " (good query); check its labels")
    return WindowCounts(window, max(total - good, 0.0), total, coverage_of)


def slo_status(p: SloPlan, results: Results, at: datetime, config: AlertConfig) -> SLOStatus:
    """One SLO's status from its windows' counts and coverage."""
    spec = p.spec
    cov = slo_coverage(p.coverage, spec, results)
    counts = [
        window_counts(spec, w, results, None if cov is None else cov.get(w.window, 0.0))
        for w in p.windows
    ]
    return evaluate_slo(
        slo_id=spec.slo_id, service=spec.service, name=spec.name,
        objective=spec.objective_ratio, period=p.period, period_elapsed=p.slo_window,
        at=at, counts=counts, slo_window=p.slo_window,
        rules=burn_rules(p), min_short_coverage=config.min_short_coverage,
        min_long_coverage=config.min_long_coverage,
    )


def burn_rules(p: SloPlan) -> tuple[BurnRateRule, ...]:
    """The SLO's burn-rate rules, with the factors of its (rule) period."""
    return burn_rate_rules(p.rule_period)


def maintenance_note(p: SloPlan, window: int | None = None) -> str | None:
    """What maintenance was left out of an SLO's ``window`` (default: its longest), and why
    (shown, not hidden)."""
    longest = max(p.windows, key=lambda w: w.window) if window is None else next(
        w for w in p.windows if w.window == window)
    if not longest.excluded:
        return None
    minutes = sum((x.end - x.start).total_seconds() for x in longest.excluded) / 60
    reasons = "; ".join(dict.fromkeys(
        f"{m.start:%Y-%m-%d %H:%M}..{m.end:%H:%M} UTC" + (f" {m.reason}" if m.reason else "")
        for m in p.maintenance
        if any(m.start < x.end and m.end > x.start for x in longest.excluded)
    ))
    return (
        f"{NOTE_PREFIX}{p.spec.slo_id}: {minutes:g} min of maintenance left out of its "
        f"{window_name(longest.window)} window ({reasons})"
    )


def interpolation_note(p: SloPlan, results: Results) -> str | None:
    """Why a latency SLI is inexact: its threshold is not a bucket bound (which bounds exist)."""
    spec, ind = p.spec, p.spec.indicator
    if not isinstance(ind, HistogramLatency):
        return None
    for w in p.windows:
        rows = results.rows(w.all_buckets, spec.service_label, spec.service)
        if isinstance(rows, str) or not rows:
            continue
        bounds = [le for le, _ in _buckets(rows) if le != float("inf")]
        lower = max((b for b in bounds if b < ind.bound), default=0.0)
        upper = min((b for b in bounds if b > ind.bound), default=None)
        if upper is None:
            where = f"above its highest bound {lower:g}"
        else:
            where = f"between the bounds {lower:g} and {upper:g}"
        return (
            f"{NOTE_PREFIX}{spec.slo_id}: {ind.bound:g} is not a bucket bound of {ind.metric}, so "
            f"its SLI is interpolated {where} (inexact) and Prometheus rules cannot read it; "
            f"add a {ind.bound:g} bound (`sloctl validate --live` shows how)"
        )
    return None


@dataclass(frozen=True)
class ServiceSignals:
    """One service's golden signals over one window and what the data was like."""

    values: tuple[SignalValue, ...]
    traffic_state: DataState  # of the request counter
    latency_state: DataState  # of the histogram
    coverage: float | None


def _state(rows: list[Sample] | str, total: float | None) -> DataState:
    if isinstance(rows, str):
        return DataState.FAILED
    if total is None:
        return DataState.NO_DATA
    return DataState.NO_TRAFFIC if total <= 0 else DataState.OK


def service_signals(
    sq: SignalQueries, results: Results, service: str
) -> ServiceSignals:
    """Traffic, errors, latency and saturation of one service over ``sq.window``."""
    label = sq.identity.label
    reasons: dict[Signal, str] = {}
    total_rows = results.rows(sq.total, label, service)
    bad_rows = results.rows(sq.bad, label, service)
    bucket_rows = results.rows(sq.buckets, label, service)
    sat_rows = results.rows(sq.saturation, label, service)
    total = None
    if isinstance(total_rows, str):
        reasons[Signal.TRAFFIC] = reasons[Signal.ERROR_RATIO] = total_rows
    else:
        total = _scalar(total_rows)
        if total is None:
            why = f'no series for {label}="{service}" over {window_name(sq.window)}'
            reasons[Signal.TRAFFIC] = reasons[Signal.ERROR_RATIO] = why
    bad = None
    if isinstance(bad_rows, str):
        reasons[Signal.ERROR_RATIO] = bad_rows
    elif total is not None:
        bad = _scalar(bad_rows) or 0.0
    buckets = None
    latency_total = None
    if isinstance(bucket_rows, str):
        for sig in (Signal.LATENCY_P50, Signal.LATENCY_P95, Signal.LATENCY_P99):
            reasons[sig] = bucket_rows
    else:
        buckets = _buckets(bucket_rows) or None
        latency_total = histogram.total(buckets) if buckets else None
    sat = None
    if isinstance(sat_rows, str):
        reasons[Signal.SATURATION] = sat_rows
    else:
        sat = _scalar(sat_rows)
        if sat is None:
            reasons[Signal.SATURATION] = f'no saturation series for {label}="{service}"'
    values = golden_signals(service, window=sq.window, total=total, bad=bad, buckets=buckets,
                            saturation=sat, reasons=reasons, unit=sq.unit)
    cov = coverage(sq.coverage, label, service, results)
    traffic_state = _state(total_rows, total)
    if traffic_state is DataState.OK and isinstance(bad_rows, str):
        traffic_state = DataState.FAILED
    return ServiceSignals(
        values=values,
        traffic_state=traffic_state,
        latency_state=_state(bucket_rows, latency_total),
        coverage=None if cov is None else cov.get(sq.window, 0.0),
    )


def signal_services(groups: Sequence[SignalQueries], results: Results) -> dict[str, SignalQueries]:
    """Which preset's queries give each service's signals: its own preset's for the services
    of the specs, the default preset's for them and every other service it finds."""
    claimed = {s: sq for sq in groups for s in sq.services}
    out = dict(claimed)
    for sq in groups:
        if sq.default:
            label = sq.identity.label
            found = results.services(sq.total, label) | results.services(sq.buckets, label)
            out.update({s: sq for s in found if s not in claimed})
    return dict(sorted(out.items()))


def _reading(signals: ServiceSignals, signal: Signal, state: DataState) -> Reading:
    value = next(v for v in signals.values if v.signal == signal)
    return Reading(value.service, value.value, state, signals.coverage, value.reason)


def _describe_signal_series(sq: SignalQueries, service: str) -> str:
    identity: ServiceIdentity = sq.identity
    text = f'{identity.label}="{service}" ({identity.describe()})'
    return f"the request counter of the {sq.preset} preset for {text}"


def assemble(
    plan: CyclePlan,
    raw: Mapping[Query, Outcome],
    *,
    at: datetime,
    prev: Mapping[str, AlertStatus],
    config: AlertConfig,
    alerting: Mapping[str, SloAlerting],
) -> Assembled:
    """SLO statuses, signals, alerts and problems of one cycle from its query results.

    ``alerting`` maps slo_id to its alert identity (labels, on/off).
    """
    results = Results(raw)
    slos = tuple(slo_status(p, results, at, config) for p in plan.slos)
    per_window: dict[int, dict[str, ServiceSignals]] = {}
    sources: dict[int, dict[str, SignalQueries]] = {}
    for window, groups in plan.signals.items():
        sources[window] = signal_services(groups, results)
        per_window[window] = {
            s: service_signals(sq, results, s) for s, sq in sources[window].items()
        }
    threshold_inputs = []
    for rule in config.threshold_rules:
        services = per_window.get(rule.window, {})
        signal = Signal.ERROR_RATIO if rule.defn.rule == "error_ratio" else Signal.LATENCY_P95
        threshold_inputs.append((rule, [
            _reading(ss, signal, ss.traffic_state if signal is Signal.ERROR_RATIO
                     else ss.latency_state)
            for ss in services.values()
        ]))
    errors = [r for r in raw.values() if isinstance(r, BackendError)]
    alerts = cycle_alerts(
        at=at, prev=prev, threshold_rules=threshold_inputs,
        slos=[(s, alerting.get(s.slo_id, SloAlerting(s.service, s.name))) for s in slos],
        backend_ok=not errors,
    )
    problems = list(dict.fromkeys(str(e) for e in errors))
    for p, status in zip(plan.slos, slos, strict=True):
        note = maintenance_note(p)
        if note:
            problems.append(note)
        if any(w.interpolated for w in status.windows):
            note = interpolation_note(p, results)
            if note:
                problems.append(note)
        if status.no_data:
            problems.append(
                f"{NO_DATA_PREFIX}{status.slo_id}: no series match {describe_selector(p.spec)} "
                "in any window; run `sloctl discover` to see what this Prometheus holds, or "
                "`sloctl validate --live` to check the spec"
            )
    main = min(plan.signals) if plan.signals else None
    if main is not None:
        for service, sq in sources[main].items():
            if service in sq.services and per_window[main][service].traffic_state is NO_DATA:
                problems.append(
                    f"{NO_DATA_PREFIX}signals of {service}: no series match "
                    f"{_describe_signal_series(sq, service)} over {window_name(main)}: it is "
                    "not scraped now, or its instrumentation differs (then give it an SLO with "
                    "the preset of its instrumentation, or set signals.preset)"
                )
    signals = (
        tuple(v for ss in per_window[main].values() for v in ss.values) if main else ()
    )
    span_check = None
    if plan.span_check:
        answers: dict[str, list[Sample] | BackendError] = {}
        for q in plan.span_check:
            answer = raw.get(q)
            if answer is not None:
                answers[q.text] = answer if isinstance(answer, BackendError) else list(answer)
        span_check = compare_results(signals, answers, SIGNAL_WINDOW)
    return Assembled(
        slos=slos,
        signals=signals,
        alerts=alerts,
        problems=tuple(problems),
        unreachable=any(isinstance(e, BackendUnreachable) for e in errors),
        span_check=span_check,
    )
