"""The alert on sloctl itself: ``SloctlEvaluationStale`` when sloctl stops evaluating.

One rule (``sloctl.core.alert_rules.EVALUATION_STALE``), firing after ``STALE_FOR_SECONDS`` when
the last evaluation's instant (``sloctl_last_evaluation_timestamp_seconds`` on sloctl's
``/metrics``) is older than ``STALE_INTERVALS`` evaluation intervals, or when that gauge is absent
(sloctl down, not scraped, or its store empty). It aggregates every label away, so a replica set
is one alert. Only Prometheus can raise it: sloctl cannot report its own silence.
"""

from __future__ import annotations

from sloctl.core import alert_rules
from sloctl.core.alert_rules import (
    EVALUATION_STALE,
    LAST_EVALUATION_METRIC,
    STALE_FOR_SECONDS,
    STALE_INTERVALS,
)
from sloctl.rulegen.model import Group, Rule
from sloctl.settings import Settings
from sloctl.sources import promql

SELF_ALERTS_GROUP = "sloctl-self"


def stale_limit_seconds(settings: Settings) -> int:
    """How old the last evaluation may be: ``STALE_INTERVALS`` evaluation intervals."""
    return STALE_INTERVALS * settings.interval_seconds


def _annotations(settings: Settings, description: str) -> dict[str, str]:
    return {
        "summary": alert_rules.summary(EVALUATION_STALE, service="sloctl"),
        "description": description,
        "runbook_url": alert_rules.runbook_url(settings.alertmanager.runbook_url,
                                               EVALUATION_STALE),
        "dashboard": settings.dashboard_url,
    }


def self_alert_group(settings: Settings) -> Group:
    """Group ``sloctl-self``: one rule, stale or absent (one alert identity either way; two
    rules with one alertname and labels would be duplicates to ``promtool check rules``)."""
    limit = stale_limit_seconds(settings)
    every = promql.prom_duration(settings.interval_seconds)
    # absent() is 1, an age over the limit is > 1: the description tells the two apart
    description = (
        "{{ if lt $value 2.0 }}"
        f"No {LAST_EVALUATION_METRIC} series: `sloctl serve` is down, this Prometheus does not "
        "scrape its /metrics, or its store holds no evaluation yet."
        "{{ else }}"
        "sloctl's last evaluation is {{ $value | humanizeDuration }} old; it evaluates every "
        f"{every} and is stale after {promql.prom_duration(limit)} ({STALE_INTERVALS} "
        "intervals). `sloctl status` shows the same age."
        "{{ end }}"
    )
    rule = Rule(
        "alert",
        EVALUATION_STALE.alertname,
        f"(time() - max({LAST_EVALUATION_METRIC}) > {limit})\nor\n"
        f"absent({LAST_EVALUATION_METRIC})",
        {"severity": EVALUATION_STALE.severity},
        _annotations(settings, description),
        STALE_FOR_SECONDS,
    )
    return Group(SELF_ALERTS_GROUP, (rule,))
