"""The two default alerts per service (``settings.default_alerts``), from the signals preset.

Error ratio above 0.5 % and p95 latency above 300 ms over 5m by default, each with ``for:``.
One rule per service, so every alert carries a static ``service`` label.
"""

from __future__ import annotations

from collections.abc import Iterable

from sloctl.rulegen.model import Group, Rule
from sloctl.rulegen.names import (
    DEFAULT_ALERTS_GROUP,
    ERROR_RATIO_ALERT,
    LATENCY_P95_ALERT,
    runbook_url,
)
from sloctl.settings import Settings
from sloctl.sources import promql
from sloctl.spec.models import Matcher


def error_ratio_expr(service: str, settings: Settings) -> str:
    """``errors / requests > threshold`` of one service over the rule's window."""
    rule = settings.default_alerts.error_ratio
    preset = settings.signals.http_preset
    label = settings.signals.effective_service_label
    svc = (promql.service_matcher(label, service),)
    errors = Matcher(preset.status_label, "=~", preset.error_regex)
    bad = promql.sum_rate(preset.counter, (*svc, errors), rule.window_seconds, by=(label,))
    total = promql.sum_rate(preset.counter, svc, rule.window_seconds, by=(label,))
    return f"(\n  {bad}\n  /\n  {total}\n) > {promql.number(rule.threshold)}"


def latency_p95_expr(service: str, settings: Settings) -> str:
    """``histogram_quantile(0.95, ...) > threshold`` of one service over the rule's window."""
    rule = settings.default_alerts.latency_p95
    preset = settings.signals.http_preset
    label = settings.signals.effective_service_label
    svc = (promql.service_matcher(label, service),)
    p95 = promql.histogram_quantile_of(0.95, preset.histogram, svc, (label,), rule.window_seconds)
    return f"{p95}\n> {promql.number(rule.threshold)}"


def _annotations(alert: str, summary: str, description: str, settings: Settings) -> dict[str, str]:
    return {
        "summary": summary,
        "description": description,
        "runbook_url": runbook_url(alert),
        "dashboard": settings.dashboard_url,
    }


def error_ratio_rule(service: str, settings: Settings) -> Rule:
    """``ServiceErrorRatioHigh`` of one service."""
    rule = settings.default_alerts.error_ratio
    window = promql.prom_duration(rule.window_seconds)
    limit = f"{round(rule.threshold * 100, 6):g} %"
    value = "{{ $value | humanizePercentage }}"
    return Rule(
        "alert",
        ERROR_RATIO_ALERT,
        error_ratio_expr(service, settings),
        {"service": service, "severity": "warning"},
        _annotations(
            ERROR_RATIO_ALERT,
            f"{service}: error ratio above {limit} over {window}",
            f"{service} answers {value} of its requests with an error (5xx) over the last "
            f"{window}; the limit is {limit}.",
            settings,
        ),
        rule.for_seconds,
    )


def latency_p95_rule(service: str, settings: Settings) -> Rule:
    """``ServiceLatencyP95High`` of one service."""
    rule = settings.default_alerts.latency_p95
    window = promql.prom_duration(rule.window_seconds)
    limit = f"{round(rule.threshold * 1000, 6):g} ms"
    value = "{{ $value | humanizeDuration }}"
    return Rule(
        "alert",
        LATENCY_P95_ALERT,
        latency_p95_expr(service, settings),
        {"service": service, "severity": "warning"},
        _annotations(
            LATENCY_P95_ALERT,
            f"{service}: p95 latency above {limit} over {window}",
            f"{service}'s 95th percentile latency is {value} over the last {window}; "
            f"the limit is {limit}.",
            settings,
        ),
        rule.for_seconds,
    )


def default_alert_group(services: Iterable[str], settings: Settings) -> Group | None:
    """Group ``sloctl-default-alerts`` for ``services`` (sorted); None if both are disabled."""
    rules: list[Rule] = []
    for service in sorted(set(services)):
        if settings.default_alerts.error_ratio.enabled:
            rules.append(error_ratio_rule(service, settings))
        if settings.default_alerts.latency_p95.enabled:
            rules.append(latency_p95_rule(service, settings))
    return Group(DEFAULT_ALERTS_GROUP, tuple(rules)) if rules else None
