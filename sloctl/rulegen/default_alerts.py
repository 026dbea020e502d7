"""The two default alerts per service (``settings.default_alerts``), from the signals preset.

Error ratio above 0.5 % and p95 latency above 300 ms over 5m by default, each with ``for:``.
One rule per service; each expression aggregates every label away, so the alert carries exactly
the labels of ``sloctl.core.alert_rules`` -- the same ones sloctl's own notifier sends.
"""

from __future__ import annotations

from collections.abc import Iterable

from sloctl.core import alert_rules
from sloctl.core.alert_rules import AlertDefinition
from sloctl.rulegen.model import Group, Rule
from sloctl.rulegen.names import DEFAULT_ALERTS_GROUP
from sloctl.settings import Settings, SignalGroup
from sloctl.sources import promql
from sloctl.spec.models import Matcher, SLOSpec
from sloctl.spec.presets import get_preset


def error_ratio_expr(service: str, settings: Settings, group: SignalGroup | None = None) -> str:
    """``errors / requests > threshold`` of one service over the rule's window."""
    rule = settings.default_alerts.error_ratio
    name, identity = group or (settings.signals.preset, settings.signals.identity)
    preset = get_preset(name)
    base = preset.base_selector
    errors = Matcher(preset.status_label, "=~", preset.error_regex)
    window = rule.window_seconds
    bad = promql.service_rate(preset.counter, (*base, errors), identity, service, window)
    total = promql.service_rate(preset.counter, base, identity, service, window)
    return f"(\n  {bad}\n  /\n  {total}\n) > {promql.number(rule.threshold)}"


def latency_p95_expr(service: str, settings: Settings, group: SignalGroup | None = None) -> str:
    """``histogram_quantile(0.95, ...) > threshold`` of one service, in seconds."""
    rule = settings.default_alerts.latency_p95
    name, identity = group or (settings.signals.preset, settings.signals.identity)
    preset = get_preset(name)
    rates = promql.service_rate(
        f"{preset.histogram}_bucket", preset.base_selector, identity, service,
        rule.window_seconds, by=("le",),
    )
    p95 = f"histogram_quantile(0.95, {rates})"
    if preset.unit != 1.0:  # a _milliseconds histogram: compare (and show) seconds
        p95 = f"{p95} * {promql.number(preset.unit)}"
    return f"{p95}\n> {promql.number(rule.threshold)}"


def _annotations(defn: AlertDefinition, summary: str, description: str,
                 settings: Settings) -> dict[str, str]:
    return {
        "summary": summary,
        "description": description,
        "runbook_url": alert_rules.runbook_url(settings.alertmanager.runbook_url, defn),
        "dashboard": settings.dashboard_url,
    }


def error_ratio_rule(service: str, settings: Settings, group: SignalGroup | None = None) -> Rule:
    """``ServiceErrorRatioHigh`` of one service."""
    rule = settings.default_alerts.error_ratio
    defn = alert_rules.ERROR_RATIO
    window = promql.prom_duration(rule.window_seconds)
    value = "{{ $value | humanizePercentage }}"
    return Rule(
        "alert",
        defn.alertname,
        error_ratio_expr(service, settings, group),
        alert_rules.service_alert_labels(defn, service),
        _annotations(
            defn,
            alert_rules.summary(defn, service=service, threshold=rule.threshold, window=window),
            f"{service} answers {value} of its requests with an error (5xx) over the last "
            f"{window}; the limit is {alert_rules.percent(rule.threshold)}.",
            settings,
        ),
        rule.for_seconds,
    )


def latency_p95_rule(service: str, settings: Settings, group: SignalGroup | None = None) -> Rule:
    """``ServiceLatencyP95High`` of one service."""
    rule = settings.default_alerts.latency_p95
    defn = alert_rules.LATENCY_P95
    window = promql.prom_duration(rule.window_seconds)
    value = "{{ $value | humanizeDuration }}"
    return Rule(
        "alert",
        defn.alertname,
        latency_p95_expr(service, settings, group),
        alert_rules.service_alert_labels(defn, service),
        _annotations(
            defn,
            alert_rules.summary(defn, service=service, threshold=rule.threshold, window=window),
            f"{service}'s 95th percentile latency is {value} over the last {window}; "
            f"the limit is {alert_rules.millis(rule.threshold)}.",
            settings,
        ),
        rule.for_seconds,
    )


def default_alert_group(
    services: Iterable[str | SLOSpec], settings: Settings
) -> Group | None:
    """Group ``sloctl-default-alerts`` for the services of ``services`` (specs, or names that
    use ``signals.preset``), sorted; None if both alerts are disabled. Each service's rules
    read the preset its SLOs use, as its golden signals do."""
    specs = [s for s in services if isinstance(s, SLOSpec)]
    _, groups = settings.signals.groups(specs)
    group_of = {svc: key for key, members in groups.items() for svc in members}
    names = {s if isinstance(s, str) else s.service for s in services}
    rules: list[Rule] = []
    for service in sorted(names):
        group = group_of.get(service)
        if settings.default_alerts.error_ratio.enabled:
            rules.append(error_ratio_rule(service, settings, group))
        if settings.default_alerts.latency_p95.enabled:
            rules.append(latency_p95_rule(service, settings, group))
    return Group(DEFAULT_ALERTS_GROUP, tuple(rules)) if rules else None
