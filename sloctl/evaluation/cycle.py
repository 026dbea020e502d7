"""One evaluation cycle: plan the queries, fetch them at one instant, assemble, persist.

The cycle always completes: a query that fails makes the values that depend on it unknown (with
the reason) and is listed in ``Evaluation.problems``; nothing crashes and nothing is faked. An
SLO whose selectors match no series at all is listed there too ("no data: ...").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from opentelemetry import trace

from sloctl.core import alert_rules
from sloctl.core.alert_eval import SloAlerting, ThresholdRule
from sloctl.core.alerts import AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.core.maintenance import Maintenance
from sloctl.evaluation.assemble import AlertConfig, assemble, bucket_fallbacks
from sloctl.evaluation.fetch import LokiMetrics, MetricsBackend, fetch
from sloctl.evaluation.plan import Backend, longest_window, plan_cycle
from sloctl.settings import Settings
from sloctl.spec.models import SLOSpec

log = logging.getLogger(__name__)
CYCLE_SPAN = "sloctl.evaluation_cycle"
_tracer = trace.get_tracer(__name__)

Progress = Callable[[str, int, int], None]


class AlertStateStore(Protocol):
    """Where alert states live between cycles (the store)."""

    def alert_states(self) -> dict[str, AlertStatus]: ...

    def alert_states_before(self, at: datetime) -> dict[str, AlertStatus]: ...

    def save_evaluation(self, ev: Evaluation) -> int: ...


def utcnow() -> datetime:
    """Now, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def utc(at: datetime) -> datetime:
    """Interpret a naive datetime as UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def alert_config(settings: Settings) -> AlertConfig:
    """The default alert rules and data-quality minimums of ``settings``."""
    quality = settings.data_quality
    rules = []
    for defn, rule in (
        (alert_rules.ERROR_RATIO, settings.default_alerts.error_ratio),
        (alert_rules.LATENCY_P95, settings.default_alerts.latency_p95),
    ):
        if rule.enabled:
            rules.append(ThresholdRule(defn, rule.threshold, rule.window_seconds,
                                       rule.for_seconds, quality.min_short_window_coverage))
    return AlertConfig(
        threshold_rules=tuple(rules),
        min_short_coverage=quality.min_short_window_coverage,
        min_long_coverage=quality.min_long_window_coverage,
    )


class Evaluator:
    """Evaluates every SLO, golden signal and alert rule of ``specs`` against the backends."""

    def __init__(
        self,
        settings: Settings,
        specs: list[SLOSpec],
        source: MetricsBackend,
        store: AlertStateStore | None = None,
        log_source: Any = None,
    ) -> None:
        self.settings = settings
        self.specs = specs
        self.source = source
        self.store = store
        self.log_source = log_source  # a LokiSource, created when a log-based SLO needs it
        self.last_unreachable = False  # True when the last cycle could not reach a backend
        self.alerting = alerting_of(specs)

    def run_cycle(self, at: datetime | None = None, progress: Progress | None = None) -> Evaluation:
        """Evaluate at ``at`` (default now), persist when a store is set, and return the result.

        The cycle is one span (``sloctl.evaluation_cycle``, OpenTelemetry API) with a client
        span per backend query; they are exported only when the daemon or the CLI set up the SDK.
        """
        with _tracer.start_as_current_span(
            CYCLE_SPAN, attributes={"sloctl.cycle.slo_count": len(self.specs)}
        ):
            return self._run_cycle(at, progress)

    def _backends(self, needs_loki: bool) -> dict[Backend, MetricsBackend]:
        backends: dict[Backend, MetricsBackend] = {"prometheus": self.source}
        if needs_loki:
            if self.log_source is None:
                from sloctl.sources.loki import LokiSource

                self.log_source = LokiSource(self.settings.loki)
            backends["loki"] = LokiMetrics(self.log_source)
        return backends

    def maintenance(self, at: datetime) -> list[Maintenance]:
        """Maintenance windows made with ``sloctl maintenance`` that touch this cycle's windows
        (the specs' own are in the specs)."""
        windows = getattr(self.store, "maintenance", None)
        if windows is None:
            return []
        longest = longest_window(self.specs)
        found: list[Maintenance] = windows.between(at - timedelta(seconds=longest), at)
        return found

    def previous_alerts(self, at: datetime) -> dict[str, AlertStatus]:
        """The alert states this cycle starts from: the current ones, or, when ``at`` lies
        before them (``eval --at`` replaying the past), those the last earlier cycle left."""
        if self.store is None:
            return {}
        current = self.store.alert_states()
        if any(a.updated_at >= at for a in current.values()):
            return self.store.alert_states_before(at)
        return current

    def _run_cycle(self, at: datetime | None, progress: Progress | None) -> Evaluation:
        started = datetime.now(UTC)
        at = (at or started.replace(microsecond=0)).astimezone(UTC)
        plan = plan_cycle(self.specs, self.settings, at, self.maintenance(at))
        queries = plan.queries()
        backends = self._backends(any(q.backend == "loki" for q in queries))
        workers = self.settings.prometheus.max_concurrency
        if progress:
            progress("query", 0, len(queries))
        on_done = (lambda d, t: progress("query", d, t)) if progress else None
        results = fetch(queries, at, backends, workers=workers, on_done=on_done)
        extra = bucket_fallbacks(plan, results)  # thresholds that are not bucket bounds
        if extra:
            results |= fetch(extra, at, backends, workers=workers, on_done=on_done)
        out = assemble(
            plan, results, at=at, prev=self.previous_alerts(at),
            config=alert_config(self.settings), alerting=self.alerting,
        )
        self.last_unreachable = out.unreachable
        ev = Evaluation(
            at=at,
            started_at=started,
            finished_at=datetime.now(UTC),
            slos=out.slos,
            signals=out.signals,
            alerts=out.alerts,
            problems=out.problems,
            query_count=len(results),
            span_check=out.span_check,
        )
        if self.store:
            if progress:
                progress("store", 0, 1)
            self.store.save_evaluation(ev)
        log.info("cycle at %s: %d queries, %d SLOs, %d problems",
                 at.isoformat(), len(results), len(out.slos), len(out.problems))
        return ev


def alerting_of(specs: list[SLOSpec]) -> Mapping[str, SloAlerting]:
    """slo_id -> its alert identity and switch."""
    return {s.slo_id: SloAlerting(s.service, s.name, s.labels_dict, s.alerting) for s in specs}


__all__ = ["Evaluator", "alert_config", "alerting_of", "utc", "utcnow"]
