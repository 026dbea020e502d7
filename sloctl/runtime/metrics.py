"""sloctl's computed results in the Prometheus text format, for ``/metrics``.

Prometheus scrapes what sloctl computes (SLIs, budgets, burn rates, golden signals, alert states,
DORA figures: ``sloctl.dora.gauges``) so Grafana can chart it next to the raw metrics. Only the
latest evaluation is exposed; a value that could not be measured is omitted, never 0.
``EvaluationCollector`` is a prometheus-client collector; ``sloctl serve``'s one HTTP server
(``runtime.http``) registers it over the store and serves it with the webhooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sloctl.core import alert_rules
from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import window_name
from sloctl.dora.gauges import DoraSource, dora_families
from sloctl.store.scorecards import StoredScorecard

EvaluationSource = Callable[[], Evaluation | None]
SLO_LABELS = ("slo_id", "service", "slo")
ALERT_LABELS = ("key", "rule", "service", "severity", "slo_id")


def _slo_values(s: SLOStatus) -> list[str]:
    return [s.slo_id, s.service, s.name]


class EvaluationCollector(Collector):
    """A ``prometheus_client`` collector over the latest evaluation given by ``source`` and the
    latest DORA scorecards given by ``dora``."""

    def __init__(self, source: EvaluationSource, dora: DoraSource | None = None) -> None:
        self._source = source
        self._dora = dora

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._dora is not None:
            yield from dora_families(self._dora())
        ev = self._source()
        if ev is None:
            return
        yield from _evaluation_families(ev)
        yield from _slo_families(ev)
        yield _signal_family(ev)
        yield from _alert_families(ev)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _evaluation_families(ev: Evaluation) -> Iterator[GaugeMetricFamily]:
    at = _gauge("sloctl_evaluation_timestamp_seconds", "Instant of the latest evaluation.")
    at.add_metric([], ev.at.timestamp())
    # the staleness alert's input (alert_rules.EVALUATION_STALE): the instant the latest stored
    # evaluation is as of, the age `sloctl status` reports
    last = _gauge(alert_rules.LAST_EVALUATION_METRIC,
                  "Instant (unix seconds) of the latest stored evaluation; its age is how old "
                  "sloctl's figures are.")
    last.add_metric([], ev.at.timestamp())
    duration = _gauge(
        "sloctl_evaluation_duration_seconds", "Wall-clock time the latest evaluation took."
    )
    duration.add_metric([], (ev.finished_at - ev.started_at).total_seconds())
    problems = _gauge(
        "sloctl_evaluation_problems", "Problems (backend errors) in the latest evaluation."
    )
    problems.add_metric([], float(len(ev.problems)))
    queries = _gauge("sloctl_evaluation_queries", "Backend queries the latest evaluation issued.")
    queries.add_metric([], float(ev.query_count))
    yield from (at, last, duration, problems, queries)


def _slo_families(ev: Evaluation) -> Iterator[GaugeMetricFamily]:
    objective = _gauge("sloctl_slo_objective", "SLO objective as a ratio (0..1).", SLO_LABELS)
    period = _gauge("sloctl_slo_period_seconds", "Length of the SLO window.", SLO_LABELS)
    remaining = _gauge(
        "sloctl_slo_error_budget_remaining",
        "Share of the error budget left over the SLO window (negative when overspent).",
        SLO_LABELS,
    )
    remaining_minutes = _gauge(
        "sloctl_slo_error_budget_remaining_minutes",
        "Error budget left over the SLO window, in minutes of full outage.",
        SLO_LABELS,
    )
    breaching = _gauge(
        "sloctl_slo_breaching", "1 when the SLI is below the objective, else 0.", SLO_LABELS
    )
    window_labels = (*SLO_LABELS, "window")
    sli = _gauge("sloctl_slo_sli", "Good / total events over a window (0..1).", window_labels)
    error_ratio = _gauge(
        "sloctl_slo_error_ratio", "Bad / total events over a window (0..1).", window_labels
    )
    burn = _gauge(
        "sloctl_slo_burn_rate", "Error ratio / error budget over a window.", window_labels
    )
    rule_labels = (*SLO_LABELS, "severity", "long_window", "short_window")
    rule_firing = _gauge(
        "sloctl_slo_burn_rate_rule_firing",
        "1 when both windows of a multiwindow burn-rate rule burn faster than its factor.",
        rule_labels,
    )
    for s in ev.slos:
        labels = _slo_values(s)
        objective.add_metric(labels, s.objective)
        period.add_metric(labels, float(s.period))
        if s.budget_remaining is not None:
            remaining.add_metric(labels, s.budget_remaining)
        if s.budget_remaining_minutes is not None:
            remaining_minutes.add_metric(labels, s.budget_remaining_minutes)
        if s.breaching is not None:
            breaching.add_metric(labels, float(s.breaching))
        for w in s.windows:
            wl = [*labels, window_name(w.window)]
            for family, value in ((sli, w.sli), (error_ratio, w.error_ratio), (burn, w.burn_rate)):
                if value is not None:
                    family.add_metric(wl, value)
        for d in s.decisions:
            if d.firing is not None:
                rl = [
                    *labels,
                    str(d.rule.severity),
                    window_name(d.rule.long_window),
                    window_name(d.rule.short_window),
                ]
                rule_firing.add_metric(rl, float(d.firing))
    yield from (objective, period, remaining, remaining_minutes, breaching, sli, error_ratio)
    yield from (burn, rule_firing)


def _signal_family(ev: Evaluation) -> GaugeMetricFamily:
    family = _gauge(
        "sloctl_signal",
        "Golden signal of a service (traffic req/s, error_ratio 0..1, latency_* s, saturation).",
        ("service", "signal"),
    )
    for sv in ev.signals:
        if sv.value is not None:
            family.add_metric([sv.service, str(sv.signal)], sv.value)
    return family


def _alert_families(ev: Evaluation) -> Iterator[GaugeMetricFamily]:
    state = _gauge(
        "sloctl_alert_state",
        "1 for the current state of an alert instance, 0 for the other states.",
        (*ALERT_LABELS, "state"),
    )
    value = _gauge("sloctl_alert_value", "Value the alert condition measured last.", ALERT_LABELS)
    threshold = _gauge("sloctl_alert_threshold", "Threshold of the alert condition.", ALERT_LABELS)
    for a in ev.alerts:
        labels = [a.key, a.rule, a.service, a.severity, a.slo_id or ""]
        for candidate in AlertState:
            state.add_metric([*labels, str(candidate)], float(candidate is a.state))
        if a.value is not None:
            value.add_metric(labels, a.value)
        threshold.add_metric(labels, a.threshold)
    yield from (state, value, threshold)


def render_metrics(ev: Evaluation | None, dora: Sequence[StoredScorecard] = ()) -> bytes:
    """The evaluation and DORA scorecards in the Prometheus text format (empty when neither)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EvaluationCollector(lambda: ev, lambda: dora))
    return generate_latest(registry)
