"""After a cycle: exemplar traces of what breaches or fires, and Prometheus vs Jaeger signals.

``after_cycle`` runs when ``jaeger.enabled`` is set (SLOCTL_JAEGER_ENABLED=true). For every
breaching SLO, every SLO with a firing burn-rate alert and every firing alert it stores the
slowest and the failing traces of the service over the alert's long window (1h otherwise); for
every service with golden signals it compares Prometheus' 5m values with the same signals
computed from Jaeger's spans. A Jaeger that is down or slow is recorded as a problem of the trace
step: it never fails the cycle, changes no SLO result and costs at most about two
``jaeger.timeout_seconds`` (one query in flight when the time budget runs out).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.span_stats import span_stats
from sloctl.core.trace_compare import Disagreement, Tolerance, compare_signals
from sloctl.errors import BackendUnreachable, SloctlError, StoreError
from sloctl.evaluation.plan import SIGNAL_WINDOW
from sloctl.runtime.exemplars import Exemplars, find_exemplars
from sloctl.settings import Settings
from sloctl.sources.jaeger import JaegerSource
from sloctl.spec.durations import parse_duration
from sloctl.store import Store
from sloctl.store.exemplars import ExemplarRecord, ExemplarStore, Kind, TraceFindings

__all__ = ["Target", "TraceFindings", "after_cycle", "enrich", "targets"]

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 3600  # exemplar window when no firing alert names one
STATS_SEARCH_DEPTH = 1000  # traces per service for the comparison
_COMPARED = frozenset({Signal.TRAFFIC, Signal.ERROR_RATIO, Signal.LATENCY_P95})


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
                "(jaeger.timeout_seconds); the remaining exemplars and comparisons were skipped"
            )
        return self.down is None

    def failed(self, exc: SloctlError) -> str:
        """The problem line for ``exc``; an unreachable Jaeger stops further queries."""
        if isinstance(exc, BackendUnreachable):
            self.down = (
                f"{exc} -- no exemplars or Prometheus/Jaeger comparison this cycle; SLO results "
                "are unaffected (set SLOCTL_JAEGER_ENABLED=false if there is no Jaeger)"
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
    """Find exemplars and disagreements for ``ev``, store them, and return them. Never raises
    for Jaeger or the store: each failure becomes one line of ``problems``."""
    budget = _Budget(settings.jaeger.timeout_seconds, clock)
    problems: dict[str, None] = {}
    records = _exemplars(ev, jaeger, budget, problems)
    tolerance = Tolerance(sampling_ratio=settings.jaeger.sampling_ratio)
    disagreements = _disagreements(ev, jaeger, budget, problems, tolerance)
    if budget.down is not None:
        problems[budget.down] = None
    findings = TraceFindings(ev.at, records, disagreements, tuple(problems))
    try:
        ExemplarStore(store.engine).save(findings, checked_at=datetime.now(UTC))
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


def _disagreements(
    ev: Evaluation,
    jaeger: JaegerSource,
    budget: _Budget,
    problems: dict[str, None],
    tolerance: Tolerance,
) -> tuple[Disagreement, ...]:
    by_service: dict[str, list[SignalValue]] = {}
    for value in ev.signals:
        if value.signal in _COMPARED and value.value is not None:
            by_service.setdefault(value.service, []).append(value)
    found: list[Disagreement] = []
    start = ev.at - timedelta(seconds=SIGNAL_WINDOW)
    for service, values in sorted(by_service.items()):
        if not budget.allows():
            break
        try:
            spans = jaeger.search_arrays(service, start, ev.at, limit=STATS_SEARCH_DEPTH)
        except SloctlError as exc:
            problems[budget.failed(exc)] = None
            continue
        if spans.trace_count >= STATS_SEARCH_DEPTH:
            values = [v for v in values if v.signal != Signal.TRAFFIC]
            problems[
                f"jaeger: {service}: request rate not compared: the search returned its limit "
                f"of {STATS_SEARCH_DEPTH} traces in 5m, so Jaeger's rate would be too low"
            ] = None
        if len(spans):
            found += compare_signals(values, span_stats(spans, SIGNAL_WINDOW), tolerance)
    return tuple(found)


def after_cycle(ev: Evaluation, settings: Settings, store: Store) -> TraceFindings | None:
    """The post-cycle trace step: ``None`` when ``jaeger.enabled`` is off, else the findings.

    Problems are logged as warnings; nothing here raises for Jaeger or the store.
    """
    if not settings.jaeger.enabled:
        return None
    with JaegerSource(settings.jaeger) as jaeger:
        findings = enrich(ev, settings, store, jaeger)
    for problem in findings.problems:
        log.warning("trace step: %s", problem)
    return findings
