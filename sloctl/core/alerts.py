"""The alert state machine, Prometheus-like: inactive -> pending -> firing -> resolved -> inactive.

One call per alert instance and evaluation. The condition is three-valued: True (holds), False
(does not hold) and None (could not be evaluated, e.g. the backend is down). An unknown condition
never fires and never resolves an alert: the state is kept and the reason recorded.

Re-running history: an evaluation whose ``now`` is not later than ``prev.updated_at`` returns
``prev`` unchanged, so replaying an older instant (or the same one twice) cannot move state
backwards or double-count time towards ``for``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertStatus:
    """State of one alert instance (rule x service, or burn-rate rule x SLO)."""

    key: str  # stable identity, e.g. "error_ratio/order" or "burn_rate:page/order/availability"
    rule: str
    service: str
    slo_id: str | None
    severity: str
    state: AlertState
    value: float | None  # the measured value of the last evaluation
    threshold: float
    active_since: datetime | None  # when the condition started holding (pending/firing)
    fired_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime
    reason: str | None = None  # why it could not decide, or why it does not fire (no data, held)
    labels: dict[str, str] = field(default_factory=dict)


def breaches(value: float | None, threshold: float) -> bool | None:
    """``value > threshold``; ``None`` when the value is unknown (None or NaN)."""
    if value is None or math.isnan(value):
        return None
    return value > threshold


def next_state(
    prev: AlertStatus | None,
    *,
    key: str,
    rule: str,
    service: str,
    slo_id: str | None,
    severity: str,
    threshold: float,
    condition: bool | None,
    value: float | None,
    for_seconds: int,
    now: datetime,
    reason: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> AlertStatus:
    """The alert's state after one evaluation at ``now``.

    Condition True: inactive/resolved/new -> pending (``active_since=now``), or straight to
    firing (``fired_at=now``) when ``for_seconds <= 0``; pending -> firing once
    ``now - active_since >= for_seconds``; firing stays firing. Condition False: pending ->
    inactive, firing -> resolved (``resolved_at=now``), resolved -> inactive. Condition None:
    state and times kept, ``value=None`` and ``reason`` recorded. ``reason`` is dropped when the
    condition holds, and kept when it does not (why: no traffic, data held back by coverage).
    ``labels=None`` keeps the previous labels.
    """
    if prev is not None and now <= prev.updated_at:
        return prev
    state = AlertState.INACTIVE if prev is None else prev.state
    active_since = None if prev is None else prev.active_since
    fired_at = None if prev is None else prev.fired_at
    resolved_at = None if prev is None else prev.resolved_at

    if condition is None:
        value, reason = None, reason or "alert condition could not be evaluated"
    elif condition:
        reason = None
        if state in (AlertState.INACTIVE, AlertState.RESOLVED):
            state, active_since, fired_at, resolved_at = AlertState.PENDING, now, None, None
        if state is AlertState.PENDING:
            active_since = active_since or now  # a stored pending alert always has one
            if (now - active_since).total_seconds() >= for_seconds:
                state, fired_at = AlertState.FIRING, now
    else:
        if state is AlertState.FIRING:
            state, resolved_at = AlertState.RESOLVED, now
        else:
            state, active_since, fired_at, resolved_at = AlertState.INACTIVE, None, None, None

    kept_labels = prev.labels if labels is None and prev is not None else dict(labels or {})
    return AlertStatus(
        key=key,
        rule=rule,
        service=service,
        slo_id=slo_id,
        severity=severity,
        state=state,
        value=value,
        threshold=threshold,
        active_since=active_since,
        fired_at=fired_at,
        resolved_at=resolved_at,
        updated_at=now,
        reason=reason,
        labels=dict(kept_labels),
    )
