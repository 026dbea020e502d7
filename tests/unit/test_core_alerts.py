"""The alert state machine: every transition, unknown conditions, and replayed history."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from sloctl.core.alerts import AlertState, AlertStatus, breaches, next_state

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INACTIVE, PENDING, FIRING, RESOLVED = (
    AlertState.INACTIVE,
    AlertState.PENDING,
    AlertState.FIRING,
    AlertState.RESOLVED,
)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status(
    state: AlertState,
    *,
    active: int | None = None,
    fired: int | None = None,
    resolved: int | None = None,
    updated: int = 0,
    labels: dict[str, str] | None = None,
) -> AlertStatus:
    """A stored alert; times are seconds after T0."""
    return AlertStatus(
        key="error_ratio/checkout",
        rule="error_ratio",
        service="checkout",
        slo_id=None,
        severity="page",
        state=state,
        value=0.2,
        threshold=0.05,
        active_since=None if active is None else at(active),
        fired_at=None if fired is None else at(fired),
        resolved_at=None if resolved is None else at(resolved),
        updated_at=at(updated),
        labels=labels or {},
    )


def evaluate(
    prev: AlertStatus | None,
    condition: bool | None,
    now: int,
    *,
    for_seconds: int = 60,
    value: float | None = 0.2,
    reason: str | None = None,
    labels: dict[str, str] | None = None,
) -> AlertStatus:
    return next_state(
        prev,
        key="error_ratio/checkout",
        rule="error_ratio",
        service="checkout",
        slo_id=None,
        severity="page",
        threshold=0.05,
        condition=condition,
        value=value,
        for_seconds=for_seconds,
        now=at(now),
        reason=reason,
        labels=labels,
    )


@dataclass(frozen=True)
class Expected:
    state: AlertState
    active: int | None = None
    fired: int | None = None
    resolved: int | None = None


# Stored alerts before the evaluation (times in seconds after T0).
WAS_INACTIVE = status(INACTIVE)
WAS_PENDING = status(PENDING, active=0)
WAS_FIRING = status(FIRING, active=0, fired=60)
WAS_RESOLVED = status(RESOLVED, active=0, fired=60, resolved=120)

# id -> (previous alert, condition, now, for_seconds, expected state and times).
TRANSITIONS: dict[str, tuple[AlertStatus | None, bool | None, int, int, Expected]] = {
    "new-true-pending": (None, True, 10, 60, Expected(PENDING, active=10)),
    "new-true-for-0-firing": (None, True, 10, 0, Expected(FIRING, active=10, fired=10)),
    "new-false-inactive": (None, False, 10, 60, Expected(INACTIVE)),
    "new-unknown-inactive": (None, None, 10, 60, Expected(INACTIVE)),
    "inactive-true-pending": (WAS_INACTIVE, True, 10, 60, Expected(PENDING, active=10)),
    "inactive-true-for-0-firing": (WAS_INACTIVE, True, 10, 0, Expected(FIRING, 10, fired=10)),
    "inactive-false-stays": (WAS_INACTIVE, False, 10, 60, Expected(INACTIVE)),
    "inactive-unknown-stays": (WAS_INACTIVE, None, 10, 60, Expected(INACTIVE)),
    "pending-true-before-for-stays": (WAS_PENDING, True, 30, 60, Expected(PENDING, active=0)),
    "pending-true-exactly-for-fires": (WAS_PENDING, True, 60, 60, Expected(FIRING, 0, fired=60)),
    "pending-true-after-for-fires": (WAS_PENDING, True, 90, 60, Expected(FIRING, 0, fired=90)),
    "pending-false-inactive": (WAS_PENDING, False, 30, 60, Expected(INACTIVE)),
    "pending-unknown-stays-not-firing": (WAS_PENDING, None, 90, 60, Expected(PENDING, 0)),
    "firing-true-stays": (WAS_FIRING, True, 120, 60, Expected(FIRING, 0, fired=60)),
    "firing-false-resolved": (WAS_FIRING, False, 120, 60, Expected(RESOLVED, 0, 60, 120)),
    "firing-unknown-stays-not-resolved": (WAS_FIRING, None, 120, 60, Expected(FIRING, 0, 60)),
    "resolved-false-inactive": (WAS_RESOLVED, False, 180, 60, Expected(INACTIVE)),
    "resolved-true-pending-again": (WAS_RESOLVED, True, 180, 60, Expected(PENDING, 180)),
    "resolved-true-for-0-firing-again": (WAS_RESOLVED, True, 180, 0, Expected(FIRING, 180, 180)),
    "resolved-unknown-stays": (WAS_RESOLVED, None, 180, 60, Expected(RESOLVED, 0, 60, 120)),
}


@pytest.mark.parametrize(
    ("prev", "condition", "now", "for_seconds", "expected"),
    list(TRANSITIONS.values()),
    ids=list(TRANSITIONS),
)
def test_transition(
    prev: AlertStatus | None,
    condition: bool | None,
    now: int,
    for_seconds: int,
    expected: Expected,
) -> None:
    got = evaluate(prev, condition, now, for_seconds=for_seconds, value=0.3)
    assert got.state is expected.state
    assert got.active_since == (None if expected.active is None else at(expected.active))
    assert got.fired_at == (None if expected.fired is None else at(expected.fired))
    assert got.resolved_at == (None if expected.resolved is None else at(expected.resolved))
    assert got.updated_at == at(now)
    if condition is None:
        assert (got.value, got.reason) == (None, "alert condition could not be evaluated")
    else:
        assert (got.value, got.reason) == (0.3, None)
    assert (got.key, got.rule, got.service, got.severity, got.threshold) == (
        "error_ratio/checkout",
        "error_ratio",
        "checkout",
        "page",
        0.05,
    )


def test_unknown_condition_records_given_reason() -> None:
    got = evaluate(status(FIRING, active=0, fired=0), None, 30, reason="prometheus unreachable")
    assert (got.state, got.value, got.reason) == (FIRING, None, "prometheus unreachable")


@pytest.mark.parametrize(
    "now",
    [pytest.param(60, id="earlier-than-last-update"), pytest.param(120, id="same-instant")],
)
def test_replayed_history_leaves_state_unchanged(now: int) -> None:
    prev = status(PENDING, active=0, updated=120)
    assert evaluate(prev, False, now) is prev
    assert evaluate(prev, True, now, for_seconds=0) is prev


def test_full_episode() -> None:
    """A 60 s ``for`` alert through one outage, a backend gap and recovery."""
    steps: list[tuple[int, bool | None, AlertState]] = [
        (0, False, INACTIVE),
        (30, True, PENDING),
        (60, True, PENDING),  # 30 s active
        (90, None, PENDING),  # backend down: no change
        (120, True, FIRING),  # 90 s active >= 60 s
        (150, None, FIRING),  # backend down: not resolved
        (180, False, RESOLVED),
        (210, False, INACTIVE),
    ]
    alert: AlertStatus | None = None
    seen = []
    for now, condition, _ in steps:
        alert = evaluate(alert, condition, now)
        seen.append(alert.state)
    assert seen == [state for _, _, state in steps]
    assert alert is not None
    assert (alert.active_since, alert.fired_at, alert.resolved_at) == (None, None, None)


def test_resolved_alert_keeps_episode_times() -> None:
    alert = evaluate(None, True, 0)
    alert = evaluate(alert, True, 60)
    alert = evaluate(alert, False, 100)
    assert (alert.state, alert.active_since, alert.fired_at, alert.resolved_at) == (
        RESOLVED,
        at(0),
        at(60),
        at(100),
    )


@pytest.mark.parametrize(
    ("prev_labels", "labels", "expected"),
    [
        pytest.param({"team": "a"}, None, {"team": "a"}, id="none-keeps-previous"),
        pytest.param({"team": "a"}, {"team": "b"}, {"team": "b"}, id="given-replaces"),
        pytest.param({}, None, {}, id="none-and-none"),
    ],
)
def test_labels(
    prev_labels: dict[str, str], labels: dict[str, str] | None, expected: dict[str, str]
) -> None:
    got = evaluate(status(INACTIVE, labels=prev_labels), True, 10, labels=labels)
    assert got.labels == expected


@pytest.mark.parametrize(
    ("value", "threshold", "expected"),
    [
        pytest.param(0.2, 0.05, True, id="above"),
        pytest.param(0.05, 0.05, False, id="equal-is-not-above"),
        pytest.param(0.01, 0.05, False, id="below"),
        pytest.param(None, 0.05, None, id="unknown"),
        pytest.param(math.nan, 0.05, None, id="nan-unknown"),
    ],
)
def test_breaches(value: float | None, threshold: float, expected: bool | None) -> None:
    assert breaches(value, threshold) is expected
