"""One evaluation cycle: plan queries, run them concurrently at one instant, compute, persist.

The cycle always completes: a query that fails makes the values that depend on it unknown (with
the reason) and is listed in ``Evaluation.problems``; nothing crashes and nothing is faked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sloctl.core import alerts as alert_sm
from sloctl.core import histogram
from sloctl.core.alerts import AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue, golden_signals
from sloctl.core.slo import SLOStatus, evaluate_slo
from sloctl.core.windows import ALERT_WINDOWS, WindowCounts, window_name
from sloctl.errors import BackendError, BackendUnreachable
from sloctl.evaluation.plan import (
    SIGNAL_WINDOW,
    CyclePlan,
    SignalQueries,
    SloPlan,
    WindowQueries,
    period_of,
    plan_cycle,
)
from sloctl.settings import Settings
from sloctl.sources.prometheus import QueryResult, Sample
from sloctl.spec.models import HistogramLatency, LogRatio, SLOSpec

if TYPE_CHECKING:
    from sloctl.telemetry import Telemetry

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class QuerySource(Protocol):
    """What the engine needs from a metrics backend."""

    def query_many(
        self,
        queries: Sequence[str],
        at: datetime,
        on_done: Callable[[int, int], None] | None = None,
        parent: Any = None,
    ) -> dict[str, QueryResult]: ...


class AlertStateStore(Protocol):
    """Where alert states live between cycles (the store)."""

    def alert_states(self) -> dict[str, AlertStatus]: ...

    def save_evaluation(self, ev: Evaluation) -> int: ...


def utcnow() -> datetime:
    """Now, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


class Evaluator:
    """Evaluates every SLO, golden signal and alert rule of ``specs`` against ``source``."""

    def __init__(
        self,
        settings: Settings,
        specs: list[SLOSpec],
        source: QuerySource,
        store: AlertStateStore | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.settings = settings
        self.specs = specs
        self.source = source
        self.store = store
        self.telemetry = telemetry
        self.log_source: Any = None  # LokiSource, created when a log-based SLO exists
        self.last_unreachable = False  # True when the last cycle could not reach the backend

    def run_cycle(self, at: datetime | None = None, progress: Progress | None = None) -> Evaluation:
        """Evaluate at ``at`` (default now), persist when a store is set, and return the result.

        With telemetry on, the cycle is one span with a child span per backend query.
        """
        if self.telemetry is None or not self.telemetry.enabled:
            return self._run_cycle(at, progress, None)
        with self.telemetry.cycle(slo_count=len(self.specs)) as span:
            return self._run_cycle(at, progress, span)

    def _run_cycle(self, at: datetime | None, progress: Progress | None, span: Any) -> Evaluation:
        started = datetime.now(UTC)
        at = (at or started.replace(microsecond=0)).astimezone(UTC)
        plan = plan_cycle(self.specs, self.settings, at)
        queries = plan.queries()
        if progress:
            progress("query", 0, len(queries))
        on_done = (lambda d, t: progress("query", d, t)) if progress else None
        results = self.source.query_many(queries, at, on_done=on_done, parent=span)
        indexed = _Results(results)
        extra = _all_bucket_queries(plan, indexed)  # thresholds that are not bucket bounds
        if extra:
            more = self.source.query_many(extra, at, on_done=on_done, parent=span)
            results = {**results, **more}
            indexed = _Results(results)
            queries = [*queries, *extra]
        log_counts, log_problems, log_queries = self._log_slis(at)
        problems = _problems(results) + log_problems
        self.last_unreachable = any(isinstance(r, BackendUnreachable) for r in results.values())
        slos = tuple(_evaluate_slo(p, indexed, at) for p in plan.slos) + tuple(
            _evaluate_log_slo(spec, counts, at, self.settings)
            for spec, counts in log_counts
        )
        signals = _signals(plan, indexed, self.specs)
        prev = self.store.alert_states() if self.store else {}
        alerts = self._alerts(plan, signals, slos, prev, at)
        ev = Evaluation(
            at=at,
            started_at=started,
            finished_at=datetime.now(UTC),
            slos=slos,
            signals=signals.get(SIGNAL_WINDOW, ()),
            alerts=alerts,
            problems=problems,
            query_count=len(queries) + log_queries,
        )
        if self.store:
            if progress:
                progress("store", 0, 1)
            self.store.save_evaluation(ev)
        log.info("cycle at %s: %d queries, %d SLOs, %d problems",
                 at.isoformat(), len(queries), len(slos), len(problems))
        return ev

    def _log_slis(
        self, at: datetime
    ) -> tuple[list[tuple[SLOSpec, list[WindowCounts]]], tuple[str, ...], int]:
        """Log-based SLOs from Loki, grouped by SLO window: (spec, counts), problems, queries."""
        specs = [s for s in self.specs if isinstance(s.indicator, LogRatio)]
        if not specs:
            return [], (), 0
        from sloctl.evaluation.log_slis import log_window_counts, plan_log_slis
        from sloctl.sources.loki import LokiSource

        client = self.log_source or LokiSource(self.settings.loki)
        self.log_source = client
        tz = self.settings.tzinfo
        by_window: dict[int, list[SLOSpec]] = {}
        for spec in specs:
            by_window.setdefault(period_of(spec, at, tz)[1], []).append(spec)
        out: list[tuple[SLOSpec, list[WindowCounts]]] = []
        problems: dict[str, None] = {}
        queries = 0
        for slo_window, group in by_window.items():
            windows = tuple(dict.fromkeys((*ALERT_WINDOWS, slo_window)))
            queries += len(plan_log_slis(group, windows).queries())
            counts = log_window_counts(group, client, at, windows)
            for spec in group:
                out.append((spec, counts[spec.slo_id]))
                for c in counts[spec.slo_id]:
                    if c.reason and c.reason.startswith("loki"):
                        problems[c.reason] = None
        return out, tuple(problems), queries

    def _alerts(
        self,
        plan: CyclePlan,
        signals: Mapping[int, tuple[SignalValue, ...]],
        slos: tuple[SLOStatus, ...],
        prev: Mapping[str, AlertStatus],
        at: datetime,
    ) -> tuple[AlertStatus, ...]:
        out: dict[str, AlertStatus] = {}
        rules = self.settings.default_alerts
        for rule_name, rule, sig in (
            ("error_ratio", rules.error_ratio, Signal.ERROR_RATIO),
            ("latency_p95", rules.latency_p95, Signal.LATENCY_P95),
        ):
            if not rule.enabled:
                continue
            for sv in signals.get(rule.window_seconds, ()):
                if sv.signal != sig:
                    continue
                key = f"default:{rule_name}/{sv.service}"
                out[key] = alert_sm.next_state(
                    prev.get(key), key=key, rule=rule_name, service=sv.service, slo_id=None,
                    severity="warning", threshold=rule.threshold,
                    condition=alert_sm.breaches(sv.value, rule.threshold), value=sv.value,
                    for_seconds=rule.for_seconds, now=at, reason=sv.reason,
                    labels={"window": window_name(rule.window_seconds)},
                )
        specs = {spec.slo_id: spec for spec in self.specs}
        for st in slos:
            spec = specs[st.slo_id]
            if not spec.alerting:
                continue
            for severity in sorted({d.rule.severity for d in st.decisions}):
                ds = [d for d in st.decisions if d.rule.severity == severity]
                firing = [d for d in ds if d.firing]
                cond: bool | None
                if firing:
                    cond = True
                elif any(d.firing is None for d in ds):
                    cond = None
                else:
                    cond = False
                worst = max(ds, key=lambda d: (d.long_burn or 0.0) / d.rule.factor)
                key = f"burn_rate:{severity}/{st.slo_id}"
                reasons = "; ".join(d.reason for d in ds if d.reason) or None
                out[key] = alert_sm.next_state(
                    prev.get(key), key=key, rule=f"slo_burn_rate_{severity}", service=st.service,
                    slo_id=st.slo_id, severity=str(severity), threshold=worst.rule.factor,
                    condition=cond, value=worst.long_burn, for_seconds=0, now=at,
                    reason=reasons,
                    labels={
                        "slo": spec.name,
                        "long_window": window_name(worst.rule.long_window),
                        "short_window": window_name(worst.rule.short_window),
                    },
                )
        for key, old in prev.items():  # rules or services not evaluated this cycle
            if key not in out and old.state.value in ("pending", "firing"):
                out[key] = alert_sm.next_state(
                    old, key=key, rule=old.rule, service=old.service, slo_id=old.slo_id,
                    severity=old.severity, threshold=old.threshold, condition=None, value=None,
                    for_seconds=0, now=at, reason="not evaluated this cycle (no data for it)",
                    labels=old.labels,
                )
        return tuple(out[k] for k in sorted(out))


def _problems(results: Mapping[str, QueryResult]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for r in results.values():
        if isinstance(r, BackendError):
            seen[str(r)] = None
    return tuple(seen)


class _Results:
    """Query results indexed by (query, service label) -> service, built once per cycle.

    Picking one service's rows is then a dict lookup, so a cycle stays linear in the number of
    series even with thousands of SLOs sharing the same queries.
    """

    def __init__(self, results: Mapping[str, QueryResult]) -> None:
        self.raw = results
        self._index: dict[tuple[str, str], dict[str, list[Sample]]] = {}

    def rows(self, query: str | None, label: str, service: str) -> list[Sample] | str:
        """Samples of one service, or the reason they are unknown."""
        result = self.raw.get(query or "")
        if result is None:
            return "query was not run"
        if isinstance(result, BackendError):
            return str(result)
        key = (query or "", label)
        index = self._index.get(key)
        if index is None:
            index = {}
            for sample in result:
                index.setdefault(sample.labels.get(label, ""), []).append(sample)
            self._index[key] = index
        return index.get(service, [])

    def services(self, query: str, label: str) -> set[str]:
        result = self.raw.get(query)
        if not isinstance(result, list):
            return set()
        return {s.labels[label] for s in result if label in s.labels}


def _scalar(rows: list[Sample]) -> float | None:
    return sum(s.value for s in rows) if rows else None


def _all_bucket_queries(plan: CyclePlan, results: _Results) -> list[str]:
    """Full-histogram queries for latency windows whose threshold is not a bucket bound.

    The first round asks only for the threshold buckets; interpolation needs the neighbours.
    """
    out: dict[str, None] = {}
    for p in plan.slos:
        ind = p.spec.indicator
        if not isinstance(ind, HistogramLatency):
            continue
        for w in p.windows:
            rows = results.rows(w.buckets, p.spec.service_label, p.spec.service)
            if isinstance(rows, str) or not rows or not w.all_buckets:
                continue
            _, exact = histogram.good_below(_buckets(rows), ind.threshold)
            if not exact:
                out[w.all_buckets] = None
    return list(out)


def _window_counts(
    spec: SLOSpec, wq: WindowQueries, results: _Results, coverage: float | None
) -> WindowCounts:
    window = wq.window
    wq_total, wq_bad, wq_good = wq.total, wq.bad, wq.good
    label, service, wname = spec.service_label, spec.service, window_name(window)
    no_series = f'no data for {label}="{service}" over {wname}'
    if isinstance(spec.indicator, HistogramLatency):
        use_all = wq.all_buckets is not None and wq.all_buckets in results.raw
        rows = results.rows(wq.all_buckets if use_all else wq.buckets, label, service)
        if isinstance(rows, str):
            return WindowCounts(window, None, None, coverage, reason=rows)
        buckets = _buckets(rows)
        total = histogram.total(buckets)
        good, exact = histogram.good_below(buckets, spec.indicator.threshold)
        if total is None or good is None:
            return WindowCounts(window, None, None, coverage, reason=no_series + " (buckets)")
        return WindowCounts(window, max(total - good, 0.0), total, coverage, interpolated=not exact)
    total_rows = results.rows(wq_total, label, service)
    if isinstance(total_rows, str):
        return WindowCounts(window, None, None, coverage, reason=total_rows)
    total = _scalar(total_rows)
    if total is None:
        return WindowCounts(window, None, None, coverage, reason=no_series)
    if wq_bad:
        bad_rows = results.rows(wq_bad, label, service)
        if isinstance(bad_rows, str):
            return WindowCounts(window, None, total, coverage, reason=bad_rows)
        bad = _scalar(bad_rows) or 0.0  # no error series at all means no errors
        return WindowCounts(window, bad, total, coverage)
    good_rows = results.rows(wq_good, label, service)
    if isinstance(good_rows, str):
        return WindowCounts(window, None, total, coverage, reason=good_rows)
    good = _scalar(good_rows)
    if good is None:
        return WindowCounts(window, None, total, coverage,
                            reason=no_series + " (good query); check its labels")
    return WindowCounts(window, max(total - good, 0.0), total, coverage)


def _buckets(rows: list[Sample]) -> list[tuple[float, float]]:
    by_le: dict[float, float] = {}
    for s in rows:
        try:
            le = float(s.labels.get("le", "nan"))
        except ValueError:
            continue
        if le == le:  # skip NaN
            by_le[le] = by_le.get(le, 0.0) + s.value
    return sorted(by_le.items())


def _coverage(plan: SloPlan, results: _Results, at: datetime) -> dict[int, float] | None:
    """Share of each window that has data; None when the coverage query failed."""
    rows = results.rows(plan.coverage, plan.spec.service_label, plan.spec.service)
    if isinstance(rows, str):
        return None
    out: dict[int, float] = {}
    for s in rows:
        try:
            w = int(s.labels["sloctl_window"])
        except (KeyError, ValueError):
            continue
        # the subquery samples every w/100 s: credit that one step of resolution
        span = at.timestamp() - s.value + max(w // 100, 1)
        out[w] = min(out.get(w, 1.0), min(max(span / w, 0.0), 1.0))
    return out


def _evaluate_slo(plan: SloPlan, results: _Results, at: datetime) -> SLOStatus:
    spec = plan.spec
    cov = _coverage(plan, results, at)
    counts = [
        _window_counts(spec, w, results, None if cov is None else cov.get(w.window, 0.0))
        for w in plan.windows
    ]
    return evaluate_slo(
        slo_id=spec.slo_id, service=spec.service, name=spec.name,
        objective=spec.objective_ratio, period=plan.period, period_elapsed=plan.slo_window,
        at=at, counts=counts, slo_window=plan.slo_window,
    )


def _evaluate_log_slo(
    spec: SLOSpec, counts: list[WindowCounts], at: datetime, settings: Settings
) -> SLOStatus:
    period, slo_window = period_of(spec, at, settings.tzinfo)
    return evaluate_slo(
        slo_id=spec.slo_id, service=spec.service, name=spec.name,
        objective=spec.objective_ratio, period=period, period_elapsed=slo_window,
        at=at, counts=counts, slo_window=slo_window,
    )


def _signals(
    plan: CyclePlan, results: _Results, specs: list[SLOSpec]
) -> dict[int, tuple[SignalValue, ...]]:
    known = {s.service for s in specs if s.service_label in
             {q.service_label for q in plan.signals.values()}}
    return {w: _signals_for(sq, results, known) for w, sq in plan.signals.items()}


def _signals_for(sq: SignalQueries, results: _Results, known: set[str]) -> tuple[SignalValue, ...]:
    label = sq.service_label
    services = known | results.services(sq.total, label) | results.services(sq.buckets, label)
    values: list[SignalValue] = []
    for service in sorted(services):
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
        bad = None
        if isinstance(bad_rows, str):
            reasons[Signal.ERROR_RATIO] = bad_rows
        elif total is not None:
            bad = _scalar(bad_rows) or 0.0
        buckets = None
        if isinstance(bucket_rows, str):
            for sig in (Signal.LATENCY_P50, Signal.LATENCY_P95, Signal.LATENCY_P99):
                reasons[sig] = bucket_rows
        else:
            buckets = _buckets(bucket_rows) or None
        sat = None
        if isinstance(sat_rows, str):
            reasons[Signal.SATURATION] = sat_rows
        else:
            sat = _scalar(sat_rows)
            if sat is None:
                reasons[Signal.SATURATION] = f'no saturation series for {label}="{service}"'
        values += golden_signals(service, window=sq.window, total=total, bad=bad,
                                 buckets=buckets, saturation=sat, reasons=reasons)
    return tuple(values)


def utc(at: datetime) -> datetime:
    """Interpret a naive datetime as UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


__all__ = ["Evaluator", "QuerySource", "utc", "utcnow"]
