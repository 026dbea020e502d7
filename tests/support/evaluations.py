"""Builders of hand-made ``Evaluation`` values with known numbers, for store and dashboard tests.

The numbers are consistent with the SLO formulas: over a window, error_ratio = bad / total,
sli = 1 - error_ratio, burn_rate = error_ratio / (1 - objective); budget_remaining = 1 - burn rate
over the (fully elapsed) SLO period.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.burn import DEFAULT_BURN_RATE_RULES, BurnRateDecision
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import ALERT_WINDOWS, WindowResult

PERIOD = 30 * 86400  # 30-day SLO window
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def window(seconds: int, total: float, bad: float, objective: float) -> WindowResult:
    ratio = bad / total
    return WindowResult(
        window=seconds,
        sli=1 - ratio,
        error_ratio=ratio,
        burn_rate=ratio / (1 - objective),
        total=total,
        bad=bad,
        coverage=1.0,
    )


def unknown_window(seconds: int, reason: str) -> WindowResult:
    return WindowResult(seconds, None, None, None, None, None, None, reason=reason)


def slo(
    service: str,
    name: str,
    at: datetime,
    *,
    objective: float = 0.999,
    total: float = 1_000_000.0,
    bad: float = 500.0,
    short_bad_ratio: float | None = None,
) -> SLOStatus:
    """A known SLO status; alert windows share ``short_bad_ratio`` (default: the period ratio)."""
    ratio = short_bad_ratio if short_bad_ratio is not None else bad / total
    windows = (
        *(window(w, 1000.0, 1000.0 * ratio, objective) for w in ALERT_WINDOWS),
        window(PERIOD, total, bad, objective),
    )
    by_window = {w.window: w for w in windows}
    decisions = tuple(
        BurnRateDecision(
            rule=rule,
            long_burn=by_window[rule.long_window].burn_rate,
            short_burn=by_window[rule.short_window].burn_rate,
            firing=min(
                by_window[rule.long_window].burn_rate or 0.0,
                by_window[rule.short_window].burn_rate or 0.0,
            )
            > rule.factor,
        )
        for rule in DEFAULT_BURN_RATE_RULES
    )
    error_budget = 1 - objective
    burn = (bad / total) / error_budget
    remaining = 1 - burn
    total_minutes = error_budget * PERIOD / 60
    return SLOStatus(
        slo_id=f"{service}/{name}",
        service=service,
        name=name,
        objective=objective,
        period=PERIOD,
        period_elapsed=PERIOD,
        at=at,
        sli=1 - bad / total,
        error_budget=error_budget,
        budget_remaining=remaining,
        budget_total_minutes=total_minutes,
        budget_remaining_minutes=total_minutes * remaining,
        budget_remaining_events=error_budget * total - bad,
        windows=windows,
        decisions=decisions,
        exhaustion_at=at + timedelta(days=10) if burn > 0 else None,
        breaching=1 - bad / total < objective,
    )


def unknown_slo(service: str, name: str, at: datetime, reason: str) -> SLOStatus:
    """An SLO whose backend was down: every value None with ``reason``."""
    windows = tuple(unknown_window(w, reason) for w in (*ALERT_WINDOWS, PERIOD))
    decisions = tuple(
        BurnRateDecision(rule, None, None, None, reason=reason) for rule in DEFAULT_BURN_RATE_RULES
    )
    return SLOStatus(
        slo_id=f"{service}/{name}",
        service=service,
        name=name,
        objective=0.99,
        period=PERIOD,
        period_elapsed=PERIOD,
        at=at,
        sli=None,
        error_budget=0.01,
        budget_remaining=None,
        budget_total_minutes=0.01 * PERIOD / 60,
        budget_remaining_minutes=None,
        budget_remaining_events=None,
        windows=windows,
        decisions=decisions,
        exhaustion_at=None,
        breaching=None,
        reason=reason,
    )


def signals(
    service: str, values: Mapping[Signal, float | None], reason: str = ""
) -> list[SignalValue]:
    return [
        SignalValue(service, s, v, reason=None if v is not None else reason)
        for s, v in values.items()
    ]


def alert(
    key: str,
    state: AlertState,
    at: datetime,
    *,
    service: str = "checkout",
    slo_id: str | None = "checkout/availability",
    value: float | None = 20.0,
    since: datetime | None = None,
    reason: str | None = None,
) -> AlertStatus:
    return AlertStatus(
        key=key,
        rule=key.split("/")[0],
        service=service,
        slo_id=slo_id,
        severity="page",
        state=state,
        value=value,
        threshold=14.4,
        active_since=since if state in (AlertState.PENDING, AlertState.FIRING) else None,
        fired_at=at if state is AlertState.FIRING else None,
        resolved_at=at if state is AlertState.RESOLVED else None,
        updated_at=at,
        reason=reason,
        labels={"team": "payments"},
    )


def evaluation(
    at: datetime,
    slos: list[SLOStatus],
    signal_values: list[SignalValue] | None = None,
    alerts: list[AlertStatus] | None = None,
    problems: tuple[str, ...] = (),
) -> Evaluation:
    return Evaluation(
        at=at,
        started_at=at + timedelta(seconds=1),
        finished_at=at + timedelta(seconds=2, microseconds=250_000),
        slos=tuple(slos),
        signals=tuple(signal_values or ()),
        alerts=tuple(alerts or ()),
        problems=problems,
        query_count=12,
    )
