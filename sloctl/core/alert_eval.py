"""The alerts of one cycle: threshold alerts per service, burn-rate and absent alerts per SLO.

Each alert's condition is three-valued (see ``alerts.next_state``) and honest about data:
- a window whose backend failed is undecided (``None``): the state is kept, with the reason;
- a window without traffic or without series cannot fire (``False``): a firing alert resolves,
  as the equivalent Prometheus rule does when its expression turns NaN or empty;
- a window with data for less than the rule's minimum coverage cannot fire either ("held back").
An alert stored from an earlier cycle but not evaluated now resolves when the backend answered
(its series are gone) and is kept when it did not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sloctl.core import alert_rules
from sloctl.core.alert_rules import AlertDefinition
from sloctl.core.alerts import AlertState, AlertStatus, breaches, next_state
from sloctl.core.burn import coverage_shortfall
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import DataState, window_name

AlertStates = Mapping[str, AlertStatus]


@dataclass(frozen=True)
class ThresholdRule:
    """A per-service rule: ``value > threshold`` over ``window`` held for ``for_seconds``."""

    defn: AlertDefinition
    threshold: float
    window: int
    for_seconds: int
    min_coverage: float = 0.0


@dataclass(frozen=True)
class Reading:
    """One service's value of a signal over a rule's window, and what the data was like."""

    service: str
    value: float | None
    state: DataState
    coverage: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SloAlerting:
    """What the alerts of one SLO need besides its status: identity labels and the switch."""

    service: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True


def threshold_condition(rule: ThresholdRule, reading: Reading) -> tuple[bool | None, str | None]:
    """The rule's condition on one reading, and why it is not True when it is not."""
    name = window_name(rule.window)
    if reading.state is DataState.FAILED:
        return None, reading.reason or f"{name} value unknown"
    if reading.state in (DataState.NO_TRAFFIC, DataState.NO_DATA) or reading.value is None:
        return False, reading.reason or f"no traffic in {name}"
    if reading.coverage is not None and reading.coverage < rule.min_coverage:
        return False, coverage_shortfall(rule.window, reading.coverage, rule.min_coverage)
    return breaches(reading.value, rule.threshold), None


def threshold_alerts(
    rule: ThresholdRule, readings: Iterable[Reading], prev: AlertStates, at: datetime
) -> dict[str, AlertStatus]:
    """One alert per service reading."""
    out: dict[str, AlertStatus] = {}
    for r in readings:
        key = alert_rules.alert_key(rule.defn, r.service)
        condition, reason = threshold_condition(rule, r)
        labels = alert_rules.service_alert_labels(rule.defn, r.service)
        labels["window"] = window_name(rule.window)
        out[key] = next_state(
            prev.get(key), key=key, rule=rule.defn.rule, service=r.service, slo_id=None,
            severity=rule.defn.severity, threshold=rule.threshold, condition=condition,
            value=r.value, for_seconds=rule.for_seconds, now=at, reason=reason, labels=labels,
        )
    return out


def burn_rate_alerts(
    status: SLOStatus, slo: SloAlerting, prev: AlertStates, at: datetime
) -> dict[str, AlertStatus]:
    """The page and ticket alerts of one SLO from its multiwindow decisions.

    A severity fires when any of its window pairs fires; it is undecided when none fires and one
    could not be decided; otherwise it does not fire (the reasons say why, e.g. held back).
    """
    out: dict[str, AlertStatus] = {}
    for severity in sorted({d.rule.severity for d in status.decisions}):
        decisions = [d for d in status.decisions if d.rule.severity == severity]
        condition: bool | None
        if any(d.firing for d in decisions):
            condition = True
        elif any(d.firing is None for d in decisions):
            condition = None
        else:
            condition = False
        worst = max(decisions, key=lambda d: (d.long_burn or 0.0) / d.rule.factor)
        defn = alert_rules.burn_rate_definition(severity)
        key = alert_rules.alert_key(defn, status.slo_id)
        labels = alert_rules.slo_alert_labels(defn, slo.service, slo.name, slo.labels)
        labels.update(
            long_window=window_name(worst.rule.long_window),
            short_window=window_name(worst.rule.short_window),
        )
        reasons = "; ".join(dict.fromkeys(d.reason for d in decisions if d.reason)) or None
        out[key] = next_state(
            prev.get(key), key=key, rule=defn.rule, service=status.service,
            slo_id=status.slo_id, severity=defn.severity, threshold=worst.rule.factor,
            condition=condition, value=worst.long_burn, for_seconds=0, now=at, reason=reasons,
            labels=labels,
        )
    return out


def absent_alert(
    status: SLOStatus, slo: SloAlerting, prev: AlertStates, at: datetime, window: int = 300
) -> dict[str, AlertStatus]:
    """``SLOMetricAbsent``: no series of the SLO in its shortest window, for 10 minutes."""
    result = status.window(window)
    defn = alert_rules.METRIC_ABSENT
    key = alert_rules.alert_key(defn, status.slo_id)
    condition: bool | None
    if result is None or result.state is DataState.FAILED:
        condition, reason = None, (result.reason if result else "no result for the window")
    else:
        condition = result.state is DataState.NO_DATA
        reason = result.reason if condition else None
    return {
        key: next_state(
            prev.get(key), key=key, rule=defn.rule, service=status.service, slo_id=status.slo_id,
            severity=defn.severity, threshold=0.0, condition=condition, value=None,
            for_seconds=alert_rules.METRIC_ABSENT_FOR_SECONDS, now=at, reason=reason,
            labels=alert_rules.slo_alert_labels(defn, slo.service, slo.name, slo.labels),
        )
    }


def carried_over(
    prev: AlertStates, evaluated: Mapping[str, AlertStatus], at: datetime, backend_ok: bool
) -> dict[str, AlertStatus]:
    """Pending or firing alerts that this cycle did not evaluate (their service or SLO is gone).

    When the backend answered, their series are gone and they resolve, as Prometheus resolves an
    alert whose expression returns nothing; when it did not, their state is kept.
    """
    out: dict[str, AlertStatus] = {}
    for key, old in prev.items():
        if key in evaluated or old.state not in (AlertState.PENDING, AlertState.FIRING):
            continue
        reason = (
            "no data for it this cycle: its service or SLO has no series"
            if backend_ok
            else "not evaluated this cycle: the backend did not answer"
        )
        out[key] = next_state(
            old, key=key, rule=old.rule, service=old.service, slo_id=old.slo_id,
            severity=old.severity, threshold=old.threshold,
            condition=False if backend_ok else None, value=None, for_seconds=0, now=at,
            reason=reason, labels=old.labels,
        )
    return out


def cycle_alerts(
    *,
    at: datetime,
    prev: AlertStates,
    threshold_rules: Sequence[tuple[ThresholdRule, Sequence[Reading]]],
    slos: Sequence[tuple[SLOStatus, SloAlerting]],
    backend_ok: bool,
) -> tuple[AlertStatus, ...]:
    """Every alert of one cycle, sorted by key."""
    out: dict[str, AlertStatus] = {}
    for rule, readings in threshold_rules:
        out.update(threshold_alerts(rule, readings, prev, at))
    for status, slo in slos:
        if not slo.enabled:
            continue
        out.update(burn_rate_alerts(status, slo, prev, at))
        out.update(absent_alert(status, slo, prev, at))
    out.update(carried_over(prev, out, at, backend_ok))
    return tuple(out[k] for k in sorted(out))
