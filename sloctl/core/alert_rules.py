"""Every alert sloctl knows, defined once: alertname, severity, identity labels and summary.

The generated Prometheus rules, sloctl's own evaluator, the Alertmanager notifier, the CLI and
the app all take names and labels from here. Prometheus and sloctl therefore send the same
``alertname`` and labels for one condition, and Alertmanager deduplicates them into one alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sloctl.core.alerts import AlertStatus
from sloctl.core.burn import Severity
from sloctl.core.recordings import slo_labels

Scope = Literal["service", "slo", "sloctl"]


@dataclass(frozen=True)
class AlertDefinition:
    """One kind of alert: sloctl's rule id, Alertmanager's alertname and its severity."""

    rule: str  # stored with every alert state, e.g. "error_ratio"
    alertname: str  # e.g. "ServiceErrorRatioHigh"
    severity: str
    scope: Scope  # one alert per service, per SLO, or about sloctl itself
    key_prefix: str  # alert state keys: "<prefix>/<service or slo id>"


ERROR_RATIO = AlertDefinition(
    "error_ratio", "ServiceErrorRatioHigh", "warning", "service", "default:error_ratio"
)
LATENCY_P95 = AlertDefinition(
    "latency_p95", "ServiceLatencyP95High", "warning", "service", "default:latency_p95"
)
BURN_RATE_PAGE = AlertDefinition(
    "slo_burn_rate_page", "SLOBurnRatePage", Severity.PAGE.value, "slo", "burn_rate:page"
)
BURN_RATE_TICKET = AlertDefinition(
    "slo_burn_rate_ticket", "SLOBurnRateTicket", Severity.TICKET.value, "slo", "burn_rate:ticket"
)
# Pyrra's SLOMetricAbsent: the SLO's selectors match no series, so nothing can measure it.
METRIC_ABSENT = AlertDefinition(
    "slo_metric_absent", "SLOMetricAbsent", "ticket", "slo", "absent"
)
METRIC_ABSENT_FOR_SECONDS = 600
# sloctl itself stopped evaluating: its last evaluation is older than STALE_INTERVALS intervals
# (or its gauge is absent). Only Prometheus' generated rule raises it: sloctl cannot report its
# own silence.
EVALUATION_STALE = AlertDefinition(
    "evaluation_stale", "SloctlEvaluationStale", "warning", "sloctl", "sloctl:evaluation_stale"
)
LAST_EVALUATION_METRIC = "sloctl_last_evaluation_timestamp_seconds"
STALE_INTERVALS = 3
STALE_FOR_SECONDS = 300

DEFINITIONS: dict[str, AlertDefinition] = {
    d.rule: d
    for d in (ERROR_RATIO, LATENCY_P95, BURN_RATE_PAGE, BURN_RATE_TICKET, METRIC_ABSENT,
              EVALUATION_STALE)
}
# Labels that describe one evaluation (which windows burned), never part of an alert's identity:
# as labels they would change Alertmanager's fingerprint between cycles.
CONTEXT_LABELS = frozenset({"window", "long_window", "short_window"})


def burn_rate_definition(severity: Severity | str) -> AlertDefinition:
    """``SLOBurnRatePage`` or ``SLOBurnRateTicket``."""
    return BURN_RATE_PAGE if str(severity) == Severity.PAGE.value else BURN_RATE_TICKET


def definition(rule: str) -> AlertDefinition | None:
    """The definition of a stored rule id, None for one this version does not know."""
    return DEFINITIONS.get(rule)


def alert_key(defn: AlertDefinition, subject: str) -> str:
    """The state key of one alert: ``default:error_ratio/order``, ``burn_rate:page/order/avail``."""
    return f"{defn.key_prefix}/{subject}"


def service_alert_labels(defn: AlertDefinition, service: str) -> dict[str, str]:
    """Identity labels (besides ``alertname``) of a per-service alert."""
    return {"service": service, "severity": defn.severity}


def slo_alert_labels(
    defn: AlertDefinition, service: str, name: str, user_labels: Mapping[str, str] = {}
) -> dict[str, str]:
    """Identity labels (besides ``alertname``) of a per-SLO alert.

    The SLO's recording labels (its spec labels and ``sloth_id``/``sloth_service``/``sloth_slo``,
    which the generated alert expressions keep) plus ``service``, ``slo``, ``severity`` and
    ``sloth_severity``.
    """
    labels = slo_labels(service, name, user_labels)
    labels.update(service=service, slo=name, severity=defn.severity, sloth_severity=defn.severity)
    return labels


def silence_matchers(*, service: str | None = None, slo_id: str | None = None) -> dict[str, str]:
    """The labels every alert of a service, or of one SLO (``service/name``), carries: the
    equality matchers of a silence covering exactly those alerts, whoever sends them."""
    if (service is None) == (slo_id is None):
        raise ValueError("give a service or an SLO id, not both")
    if service is not None:
        return {"service": service}
    assert slo_id is not None
    owner, sep, name = slo_id.partition("/")
    if not sep or not owner or not name:
        raise ValueError(f"SLO id {slo_id!r} is not SERVICE/NAME")
    return {"slo": name, "sloth_service": owner}


def alertname(rule: str) -> str:
    """Alertmanager's ``alertname`` of a rule id (``error_ratio`` -> ``ServiceErrorRatioHigh``);
    ``SloctlCamelCase`` for a rule this version does not define."""
    defn = definition(rule)
    if defn is not None:
        return defn.alertname
    return "Sloctl" + "".join(part.capitalize() for part in rule.split("_"))


def identity_labels(alert: AlertStatus) -> dict[str, str]:
    """The full label set Alertmanager fingerprints: ``alertname`` and the identity labels."""
    labels = {k: v for k, v in alert.labels.items() if k not in CONTEXT_LABELS}
    labels.update(
        alertname=alertname(alert.rule), service=alert.service, severity=alert.severity
    )
    if alert.slo_id and "slo" not in labels:
        labels["slo"] = alert.slo_id.split("/", 1)[-1]
    return {k: v for k, v in sorted(labels.items()) if v}


def percent(ratio: float) -> str:
    """``0.005`` -> ``0.5 %`` (up to 6 significant decimals, no float noise)."""
    return f"{round(ratio * 100, 6):g} %"


def millis(seconds: float) -> str:
    """``0.3`` -> ``300 ms``."""
    return f"{round(seconds * 1000, 6):g} ms"


def summary(
    defn: AlertDefinition,
    *,
    service: str,
    slo_id: str | None = None,
    threshold: float | None = None,
    window: str | None = None,
) -> str:
    """The one-line summary both Prometheus' rule and sloctl's notifier send."""
    over = f" over {window}" if window else ""
    if defn is ERROR_RATIO and threshold is not None:
        return f"{service}: error ratio above {percent(threshold)}{over}"
    if defn is LATENCY_P95 and threshold is not None:
        return f"{service}: p95 latency above {millis(threshold)}{over}"
    subject = slo_id or service
    if defn is METRIC_ABSENT:
        return f"{subject}: no series match its metrics; it cannot be measured"
    if defn in (BURN_RATE_PAGE, BURN_RATE_TICKET):
        return f"{subject} is burning its error budget too fast ({defn.severity})"
    if defn is EVALUATION_STALE:
        return "sloctl has stopped evaluating: its SLO figures and alerts are stale"
    return f"{subject}: {defn.rule}"


def runbook_url(base: str, defn_or_alertname: AlertDefinition | str) -> str:
    """The runbook link of an alert: ``base`` with the alertname (lower case) as anchor."""
    name = (
        defn_or_alertname.alertname
        if isinstance(defn_or_alertname, AlertDefinition)
        else defn_or_alertname
    )
    return f"{base}#{name.lower()}"
