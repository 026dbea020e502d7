"""After a cycle: exemplar traces of what breaches or fires, and HTTP vs span metrics.

``after_cycle`` runs when ``jaeger.enabled`` is set (SLOCTL_JAEGER_ENABLED=true). For every
breaching SLO, every SLO with a firing burn-rate alert and every firing alert it stores the
slowest and the failing traces of the service over the alert's long window (1h otherwise), read
from Jaeger. For every service with golden signals it compares the 5m request rate and error
ratio of the HTTP metrics with those of the span metrics in Prometheus (the collector's
span_metrics connector; ``sloctl.sources.span_metrics``). A Jaeger or Prometheus that is down or
slow is recorded as a problem of the trace step: it never fails the cycle, changes no SLO result
and costs at most about two ``jaeger.timeout_seconds`` of Jaeger queries (one in flight when the
time budget runs out) plus one batch of two Prometheus queries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.core.trace_compare import SpanComparison
from sloctl.errors import BackendUnreachable, SloctlError, StoreError
from sloctl.runtime.exemplars import Exemplars, find_exemplars
from sloctl.settings import Settings
from sloctl.sources.jaeger import JaegerSource
from sloctl.sources.prometheus import QueryResult
from sloctl.spec.durations import parse_duration
from sloctl.store import Store
from sloctl.store.traces import ExemplarRecord, Kind, TraceFindings

__all__ = ["Target", "TraceFindings", "after_cycle", "enrich", "targets"]

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 3600  # exemplar window when no firing alert names one


class Queries(Protocol):
    """What the comparison needs of a Prometheus source (``PrometheusSource`` has it)."""

    def query_many(self, queries: Sequence[str], at: datetime) -> Mapping[str, QueryResult]: ...


@dataclass(frozen=True)
class Target:
    """One SLO or alert to find exemplars for: its key, service and window (seconds)."""

    key: str
    kind: Kind
    service: str
    window: int


def alert_window(alert: AlertStatus) -> int:
    """The alert's long window from its labels (``long_window`` or ``window``), else 1h."""
    text = alert.labels.get("long_window") or alert.labels.get("window")
    if text:
        try:
            return parse_duration(text)
        except ValueError:
            pass
    return DEFAULT_WINDOW


def targets(ev: Evaluation) -> list[Target]:
    """Breaching SLOs, SLOs with a firing alert (its shortest window), then firing alerts."""
    firing = [a for a in ev.alerts if a.state == AlertState.FIRING]
    found: list[Target] = []
    for slo in ev.slos:
        windows = [alert_window(a) for a in firing if a.slo_id == slo.slo_id]
        if slo.breaching or windows:
            found.append(
                Target(slo.slo_id, "slo", slo.service, min(windows, default=DEFAULT_WINDOW))
            )
    found += [Target(a.key, "alert", a.service, alert_window(a)) for a in firing]
    return found


class _Budget:
    """Stops new Jaeger queries once Jaeger is unreachable or ``seconds`` have passed."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._deadline = clock() + seconds
        self.seconds = seconds
        self.down: str | None = None  # why no more queries are sent

    def allows(self) -> bool:
        if self.down is None and self._clock() > self._deadline:
            self.down = (
                f"jaeger: the trace step stopped after its time budget of {self.seconds:g} s "
                "(jaeger.timeout_seconds); the remaining exemplars were skipped"
            )
        return self.down is None

    def failed(self, exc: SloctlError) -> str:
        """The problem line for ``exc``; an unreachable Jaeger stops further queries."""
        if isinstance(exc, BackendUnreachable):
            self.down = (
                f"{exc} -- no exemplars this cycle; SLO results are unaffected (set "
                "SLOCTL_JAEGER_ENABLED=false if there is no Jaeger)"
            )
            return self.down
        return str(exc)


def enrich(
    ev: Evaluation,
    settings: Settings,
    store: Store,
    jaeger: JaegerSource,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> TraceFindings:
    """Find exemplars for ``ev``, store them with the cycle's HTTP-vs-span-metrics check, and
    return them. Never raises for Jaeger or the store: each failure becomes one line of
    ``problems``."""
    comparison = ev.span_check or SpanComparison()
    budget = _Budget(settings.jaeger.timeout_seconds, clock)
    problems: dict[str, None] = dict.fromkeys(comparison.problems)
    records = _exemplars(ev, jaeger, budget, problems)
    if budget.down is not None:
        problems[budget.down] = None
    findings = TraceFindings(ev.at, records, comparison.disagreements, tuple(problems))
    try:
        store.traces.save(findings, checked_at=datetime.now(UTC))
    except StoreError as exc:
        findings = replace(findings, problems=(*findings.problems, str(exc)))
    return findings


def _exemplars(
    ev: Evaluation, jaeger: JaegerSource, budget: _Budget, problems: dict[str, None]
) -> tuple[ExemplarRecord, ...]:
    found: dict[tuple[str, int], Exemplars] = {}
    records: list[ExemplarRecord] = []
    for target in targets(ev):
        cached = (target.service, target.window)
        if cached not in found:
            if not budget.allows():
                continue
            start = ev.at - timedelta(seconds=target.window)
            try:
                found[cached] = find_exemplars(jaeger, target.service, start, ev.at)
            except SloctlError as exc:
                problems[budget.failed(exc)] = None
                continue
        records.append(ExemplarRecord(target.key, target.kind, found[cached]))
    return tuple(records)


def after_cycle(ev: Evaluation, settings: Settings, store: Store) -> TraceFindings | None:
    """The post-cycle trace step: ``None`` when ``jaeger.enabled`` is off, else the findings.

    The HTTP-vs-span-metrics check was part of the cycle's own queries (``ev.span_check``);
    this step adds Jaeger's exemplars. Problems are logged as warnings; nothing here raises
    for Jaeger or the store.
    """
    if not settings.jaeger.enabled:
        return None
    with JaegerSource(settings.jaeger) as jaeger:
        findings = enrich(ev, settings, store, jaeger)
    for problem in findings.problems:
        log.warning("trace step: %s", problem)
    return findings
