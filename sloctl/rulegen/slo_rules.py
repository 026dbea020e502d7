"""Sloth-compatible rules of one SLO: SLI recordings, meta recordings and MWMB alerts.

Names and labels follow Sloth (``slo:sli_error:ratio_rate<W>``, ``sloth_id``, ...), so Sloth's
Grafana dashboards keep working. The period SLI is Sloth's optimised form: the mean of the 5m
recording over the period, which reads one recorded series instead of weeks of raw counters.
"""

from __future__ import annotations

from sloctl.core import alert_rules, recordings
from sloctl.core.burn import BURN_RATE_TIERS, BurnRateRule, Severity, burn_rate_rules
from sloctl.core.windows import ALERT_WINDOWS
from sloctl.rulegen.model import Group, Rule
from sloctl.rulegen.names import CALENDAR_PERIOD, sli_metric, sloth_id
from sloctl.settings import Settings
from sloctl.sources import promql
from sloctl.spec.models import HistogramLatency, LogRatio, Matcher, MetricRatio, SLOSpec


def period_seconds(spec: SLOSpec) -> int:
    """The SLO window in seconds; calendar months become a rolling 30 days (see names)."""
    return spec.window.seconds if spec.window.seconds is not None else CALENDAR_PERIOD


def base_labels(spec: SLOSpec) -> dict[str, str]:
    """The spec labels plus ``sloth_id``, ``sloth_service`` and ``sloth_slo`` (these win)."""
    user = {promql.check_label_name(k): v for k, v in spec.labels}
    return recordings.slo_labels(spec.service, spec.name, user)


def id_selector(spec: SLOSpec, metric: str) -> str:
    """``metric{sloth_id="...", sloth_service="...", sloth_slo="..."}``."""
    labels = recordings.slo_labels(spec.service, spec.name)
    matchers = [Matcher(name, "=", labels[name]) for name in recordings.SLO_LABELS]
    return promql.selector(metric, matchers)


def sli_expr(spec: SLOSpec, window: int) -> str:
    """The raw error-ratio expression of ``spec`` over ``window``, for its service only."""
    ind = spec.indicator
    if isinstance(ind, MetricRatio):
        return promql.ratio_sli_error(ind, spec.identity, spec.service, window)
    if isinstance(ind, HistogramLatency):
        return promql.latency_sli_error(ind, spec.identity, spec.service, window)
    if isinstance(ind, LogRatio):
        raise ValueError(
            f"{spec.slo_id} is a log-based SLI (Loki); it has no Prometheus recording rules"
        )
    return promql.query_sli_error(ind, spec.identity, spec.service, window)


def optimized_period_expr(spec: SLOSpec) -> str:
    """Sloth's optimised period SLI: time-average of the 5m error ratio over the period."""
    five = id_selector(spec, sli_metric(ALERT_WINDOWS[0]))
    period = promql.prom_duration(period_seconds(spec))
    return (
        f"sum_over_time({five}[{period}])\n"
        f"/ ignoring (sloth_window)\n"
        f"count_over_time({five}[{period}])"
    )


def sli_group(spec: SLOSpec) -> Group:
    """``slo:sli_error:ratio_rate<W>`` for every alert window and the period."""
    labels = base_labels(spec)
    rules = [
        Rule(
            "record",
            sli_metric(w),
            sli_expr(spec, w),
            {**labels, "sloth_window": promql.prom_duration(w)},
        )
        for w in ALERT_WINDOWS
    ]
    period = period_seconds(spec)
    if period not in ALERT_WINDOWS:
        name = promql.prom_duration(period)
        rules.append(
            Rule(
                "record",
                sli_metric(period),
                optimized_period_expr(spec),
                {**labels, "sloth_window": name},
            )
        )
    return Group(f"sloth-slo-sli-recordings-{sloth_id(spec)}", tuple(rules))


def meta_group(spec: SLOSpec) -> Group:
    """Objective, budget, period, burn rates, budget remaining and ``sloth_slo_info``."""
    labels = base_labels(spec)
    period = period_seconds(spec)
    budget = id_selector(spec, recordings.ERROR_BUDGET)
    on = "on (sloth_id, sloth_slo, sloth_service) group_left"
    info = {
        **labels,
        "sloth_mode": "cli-gen-prom",
        "sloth_objective": promql.number(spec.objective),
        "sloth_spec": spec.spec_format,
        recordings.SLOCTL_WINDOW: spec.window.name,
    }
    rules = [
        Rule(
            "record",
            recordings.OBJECTIVE,
            f"vector({promql.number(spec.objective_ratio)})",
            labels,
        ),
        Rule(
            "record",
            recordings.ERROR_BUDGET,
            f"vector({promql.number(spec.error_budget)})",
            labels,
        ),
        Rule(
            "record",
            recordings.TIME_PERIOD_DAYS,
            f"vector({promql.number(period / 86400)})",
            labels,
        ),
        Rule(
            "record",
            recordings.CURRENT_BURN_RATE,
            f"{id_selector(spec, sli_metric(ALERT_WINDOWS[0]))}\n/ {on}\n{budget}",
            labels,
        ),
        Rule(
            "record",
            recordings.PERIOD_BURN_RATE,
            f"{id_selector(spec, sli_metric(period))}\n/ {on}\n{budget}",
            labels,
        ),
        Rule(
            "record",
            recordings.PERIOD_BUDGET_REMAINING,
            f"1 - {id_selector(spec, recordings.PERIOD_BURN_RATE)}",
            labels,
        ),
        Rule("record", recordings.SLO_INFO, "vector(1)", info),
    ]
    return Group(f"sloth-slo-meta-recordings-{sloth_id(spec)}", tuple(rules))


def _percent(ratio: float) -> str:
    return f"{round(ratio * 100, 6):g}"


def _over(spec: SLOSpec, rule: BurnRateRule, window: int) -> str:
    threshold = f"({promql.number(rule.factor)} * {promql.number(spec.error_budget)})"
    return f"max({id_selector(spec, sli_metric(window))} > {threshold}) without (sloth_window)"


def burn_rules(spec: SLOSpec, severity: Severity) -> list[BurnRateRule]:
    """The window pairs of one severity, with the factors of the SLO's period."""
    return [r for r in burn_rate_rules(period_seconds(spec)) if r.severity == severity]


def burn_alert(spec: SLOSpec, severity: Severity, settings: Settings) -> Rule:
    """One MWMB alert: OR over this severity's (short AND long) window pairs."""
    tiers = burn_rules(spec, severity)
    expr = "\nor\n".join(
        f"(\n  {_over(spec, r, r.short_window)}\n  and\n  {_over(spec, r, r.long_window)}\n)"
        for r in tiers
    )
    pairs = "; ".join(
        f"{promql.number(r.factor)}x ({_percent(r.factor * spec.error_budget)} % "
        f"errors) over {promql.prom_duration(r.long_window)} and "
        f"{promql.prom_duration(r.short_window)}"
        for r in tiers
    )
    defn = alert_rules.burn_rate_definition(severity)
    return Rule(
        "alert",
        defn.alertname,
        expr,
        labels=_alert_labels(spec, defn),
        annotations={
            "summary": alert_rules.summary(defn, service=spec.service, slo_id=spec.slo_id),
            "description": (
                f"{spec.slo_id} (objective {promql.number(spec.objective)} % over "
                f"{spec.window.name}): error ratio {{{{ $value | humanizePercentage }}}} over the "
                f"short window. Fires when the error budget burns faster than {pairs}."
            ),
            "runbook_url": alert_rules.runbook_url(settings.alertmanager.runbook_url, defn),
            "dashboard": settings.dashboard_url,
        },
    )


def _alert_labels(spec: SLOSpec, defn: alert_rules.AlertDefinition) -> dict[str, str]:
    user = {promql.check_label_name(k): v for k, v in spec.labels}
    return alert_rules.slo_alert_labels(defn, spec.service, spec.name, user)


def absent_expr(spec: SLOSpec) -> str:
    """``absent(...)`` of the SLO's total series (summed, so the alert gets no extra labels)."""
    ind = spec.indicator
    if isinstance(ind, MetricRatio):
        metric, matchers = ind.metric, ind.selector
    elif isinstance(ind, HistogramLatency):
        metric, matchers = promql.latency_total_metric(ind), ind.selector
    else:
        assert not isinstance(ind, LogRatio)
        total = promql.render_template(ind.total, ALERT_WINDOWS[0])
        if ind.ungrouped:  # the query selects the SLO's series itself
            return f"absent(sum({total}))"
        return f"absent(sum({promql.only_service(total, spec.service_label, spec.service)}))"
    present = promql.service_present(metric, matchers, spec.identity, spec.service)
    return f"absent({present})"


def absent_alert(spec: SLOSpec, settings: Settings) -> Rule:
    """``SLOMetricAbsent`` (as Pyrra's): the SLO's series are gone for 10 minutes."""
    defn = alert_rules.METRIC_ABSENT
    return Rule(
        "alert",
        defn.alertname,
        absent_expr(spec),
        labels=_alert_labels(spec, defn),
        annotations={
            "summary": alert_rules.summary(defn, service=spec.service, slo_id=spec.slo_id),
            "description": (
                f"No series of {spec.slo_id} exist: its recording rules record nothing and its "
                "burn-rate alerts cannot fire. Check that the service is scraped and that the "
                "spec's metric and labels match (sloctl validate --live)."
            ),
            "runbook_url": alert_rules.runbook_url(settings.alertmanager.runbook_url, defn),
            "dashboard": settings.dashboard_url,
        },
        for_seconds=alert_rules.METRIC_ABSENT_FOR_SECONDS,
    )


def alert_group(spec: SLOSpec, settings: Settings) -> Group:
    """The page and ticket burn-rate alerts of one SLO, and its absent-metric alert."""
    severities = sorted({t.severity for t in BURN_RATE_TIERS})
    return Group(
        f"sloth-slo-alerts-{sloth_id(spec)}",
        (*(burn_alert(spec, s, settings) for s in severities), absent_alert(spec, settings)),
    )


def slo_groups(spec: SLOSpec, settings: Settings) -> list[Group]:
    """Every group of one SLO; no alert group when its alerting is disabled."""
    groups = [sli_group(spec), meta_group(spec)]
    if spec.alerting:
        groups.append(alert_group(spec, settings))
    return groups
