"""Log-based SLIs (``LogRatio``): error lines / all lines per service, from Loki metric queries.

Batched like the Prometheus SLIs: per window, one ``total`` and one ``bad`` query serve every
SLO that shares a selector, error filter and service label, grouped ``by (<service label>)`` and
restricted to the services that need it; rows are picked client-side. ``plan_log_slis`` and
``evaluate_log_slis`` are pure; ``log_window_counts`` runs the queries in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sloctl.core.windows import WindowCounts, window_name
from sloctl.errors import BackendError
from sloctl.sources import logql
from sloctl.sources.loki import MetricPoint
from sloctl.spec.models import LogRatio, SLOSpec

LogResult = list[MetricPoint] | BackendError


class LogMetricSource(Protocol):
    """What log SLIs need from Loki: one instant metric query (``LokiSource.metric``)."""

    def metric(self, logql: str, at: datetime) -> list[MetricPoint]: ...


@dataclass(frozen=True)
class LogWindowQueries:
    """The two queries giving one log SLO's bad and total lines over one window."""

    window: int
    total: str
    bad: str


@dataclass
class LogSliPlan:
    """Queries of every log SLO, per window; ``queries()`` lists the distinct texts."""

    slos: dict[str, tuple[SLOSpec, tuple[LogWindowQueries, ...]]] = field(default_factory=dict)

    def queries(self) -> list[str]:
        out = [q for _, ws in self.slos.values() for w in ws for q in (w.total, w.bad)]
        return list(dict.fromkeys(out))


def is_log_sli(spec: SLOSpec) -> bool:
    """True for SLOs measured from Loki (skip them in the Prometheus plan)."""
    return isinstance(spec.indicator, LogRatio)


def plan_log_slis(specs: Sequence[SLOSpec], windows: Sequence[int]) -> LogSliPlan:
    """The queries of every ``LogRatio`` SLO in ``specs`` over ``windows`` (others are ignored)."""
    groups: dict[tuple[LogRatio, str], set[str]] = {}
    for spec in specs:
        if isinstance(spec.indicator, LogRatio):
            groups.setdefault((spec.indicator, spec.service_label), set()).add(spec.service)
    plan = LogSliPlan()
    for spec in specs:
        ind = spec.indicator
        if not isinstance(ind, LogRatio):
            continue
        services = groups[(ind, spec.service_label)]
        per_window = tuple(
            LogWindowQueries(
                w,
                total=logql.log_ratio_total(ind, spec.service_label, services, w),
                bad=logql.log_ratio_bad(ind, spec.service_label, services, w),
            )
            for w in dict.fromkeys(windows)
        )
        plan.slos[spec.slo_id] = (spec, per_window)
    return plan


def run_log_queries(
    source: LogMetricSource, queries: Sequence[str], at: datetime, workers: int = 4
) -> dict[str, LogResult]:
    """Every query at instant ``at``, concurrently; a failure is kept as the query's result."""

    def one(q: str) -> LogResult:
        try:
            return source.metric(q, at)
        except BackendError as exc:
            return exc

    unique = list(dict.fromkeys(queries))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=min(workers, len(unique)), thread_name_prefix="logql") as p:
        return dict(zip(unique, p.map(one, unique), strict=True))


def evaluate_log_slis(
    plan: LogSliPlan, results: Mapping[str, LogResult]
) -> dict[str, list[WindowCounts]]:
    """``slo_id -> [WindowCounts per window]`` from the query results (pure)."""
    return {
        slo_id: [_counts(spec, w, results) for w in windows]
        for slo_id, (spec, windows) in plan.slos.items()
    }


def log_window_counts(
    specs: list[SLOSpec], client: LogMetricSource, at: datetime, windows: Sequence[int]
) -> dict[str, list[WindowCounts]]:
    """Plan, query Loki at ``at`` and count: ``slo_id -> [WindowCounts]`` for each log SLO."""
    plan = plan_log_slis(specs, windows)
    return evaluate_log_slis(plan, run_log_queries(client, plan.queries(), at))


def _pick(rows: LogResult, label: str, service: str) -> float | str | None:
    """The service's value, None when it has no series, or the error text."""
    if isinstance(rows, BackendError):
        return str(rows)
    values = [p.value for p in rows if p.labels.get(label) == service]
    return sum(values) if values else None


def _counts(spec: SLOSpec, wq: LogWindowQueries, results: Mapping[str, LogResult]) -> WindowCounts:
    label, service, w = spec.service_label, spec.service, wq.window
    missing = "the query was not run"
    total = _pick(results.get(wq.total, BackendError("loki", missing)), label, service)
    if isinstance(total, str):
        return WindowCounts(w, None, None, reason=total)
    if total is None:
        return WindowCounts(
            w, None, None, reason=f'no log lines for {label}="{service}" over {window_name(w)}'
        )
    bad = _pick(results.get(wq.bad, BackendError("loki", missing)), label, service)
    if isinstance(bad, str):
        return WindowCounts(w, None, total, reason=bad)
    return WindowCounts(w, bad or 0.0, total)  # no error series at all means no error lines
