"""Burn rates, budget consumption, exhaustion and MWMB decisions with SRE workbook numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sloctl.core.burn import (
    DEFAULT_BURN_RATE_RULES,
    BurnRateRule,
    Severity,
    budget_consumed,
    burn_rate,
    decide,
    error_budget,
    exhaustion_time,
)
from sloctl.core.windows import WindowResult

DAY = 86400
PERIOD_30D = 30 * DAY
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGE_1H = BurnRateRule(Severity.PAGE, 3600, 300, 14.4)


def result(window: int, burn: float | None, reason: str | None = None) -> WindowResult:
    """A window result with only the burn rate set (what ``decide`` reads)."""
    return WindowResult(window, None, None, burn, None, None, None, reason=reason)


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        pytest.param(0.999, 0.001, id="99.9%"),
        pytest.param(0.995, 0.005, id="99.5%"),
        pytest.param(0.99999, 0.00001, id="99.999%"),
        pytest.param(0.9, 0.1, id="90%"),
    ],
)
def test_error_budget_is_one_minus_objective_without_float_noise(
    objective: float, expected: float
) -> None:
    assert error_budget(objective) == expected


@pytest.mark.parametrize(
    "objective",
    [
        pytest.param(99.5, id="percentage-not-ratio"),
        pytest.param(1.0, id="100%-has-no-budget"),
        pytest.param(0.0, id="zero"),
    ],
)
def test_error_budget_rejects_objectives_outside_0_1(objective: float) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        error_budget(objective)


# SRE workbook table 5-4 (99.9 % over 30 d): error ratio -> burn rate.
@pytest.mark.parametrize(
    ("error_ratio", "expected"),
    [
        pytest.param(0.001, 1.0, id="0.1%-is-1x"),
        pytest.param(0.002, 2.0, id="0.2%-is-2x"),
        pytest.param(0.01, 10.0, id="1%-is-10x"),
        pytest.param(1.0, 1000.0, id="100%-is-1000x"),
        pytest.param(0.0, 0.0, id="no-errors-is-0x"),
    ],
)
def test_burn_rate_at_99_9(error_ratio: float, expected: float) -> None:
    assert burn_rate(error_ratio, error_budget(0.999)) == pytest.approx(expected, rel=1e-12)


def test_burn_rate_rejects_zero_budget() -> None:
    with pytest.raises(ValueError, match="objective below 100 %"):
        burn_rate(0.01, 0.0)


# SRE workbook table 5-4: time to exhaust a full 30-day budget at a constant burn rate.
@pytest.mark.parametrize(
    ("burn", "expected"),
    [
        pytest.param(1.0, timedelta(days=30), id="1x-30-days"),
        pytest.param(2.0, timedelta(days=15), id="2x-15-days"),
        pytest.param(10.0, timedelta(days=3), id="10x-3-days"),
        pytest.param(1000.0, timedelta(minutes=43.2), id="1000x-43.2-minutes"),
    ],
)
def test_full_budget_exhaustion_at_99_9(burn: float, expected: timedelta) -> None:
    assert exhaustion_time(AT, 1.0, PERIOD_30D, burn) == AT + expected


@pytest.mark.parametrize(
    ("remaining", "burn", "expected"),
    [
        pytest.param(0.5, 1.0, AT + timedelta(days=15), id="half-budget-1x-15-days"),
        pytest.param(0.25, 10.0, AT + timedelta(hours=18), id="quarter-budget-10x-18-hours"),
        pytest.param(0.0, 5.0, AT, id="spent-budget-is-now"),
        pytest.param(-0.3, 5.0, AT, id="overspent-budget-is-now"),
        pytest.param(-0.3, None, AT, id="overspent-unknown-burn-is-now"),
        pytest.param(0.5, 0.0, None, id="not-burning-never"),
        pytest.param(0.5, None, None, id="unknown-burn"),
        pytest.param(None, 2.0, None, id="unknown-budget"),
    ],
)
def test_exhaustion_time(
    remaining: float | None, burn: float | None, expected: datetime | None
) -> None:
    assert exhaustion_time(AT, remaining, PERIOD_30D, burn) == expected


# SRE workbook tables 5-6 / 5-8: budget consumed in the long window when the alert fires.
@pytest.mark.parametrize(
    ("burn", "window", "expected"),
    [
        pytest.param(14.4, 3600, 0.02, id="14.4x-1h-2%"),
        pytest.param(6.0, 6 * 3600, 0.05, id="6x-6h-5%"),
        pytest.param(3.0, DAY, 0.10, id="3x-1d-10%"),
        pytest.param(1.0, 3 * DAY, 0.10, id="1x-3d-10%"),
    ],
)
def test_budget_consumed_over_30_days(burn: float, window: int, expected: float) -> None:
    assert budget_consumed(burn, window, PERIOD_30D) == pytest.approx(expected, rel=1e-12)


# Worked example 3.5: 99.5 % (EB 0.005) error-ratio thresholds of the default rules.
@pytest.mark.parametrize(
    ("rule", "expected_error_ratio"),
    [
        pytest.param(DEFAULT_BURN_RATE_RULES[0], 0.072, id="page-1h-5m-14.4x-7.2%"),
        pytest.param(DEFAULT_BURN_RATE_RULES[1], 0.03, id="page-6h-30m-6x-3%"),
        pytest.param(DEFAULT_BURN_RATE_RULES[2], 0.015, id="ticket-1d-2h-3x-1.5%"),
        pytest.param(DEFAULT_BURN_RATE_RULES[3], 0.005, id="ticket-3d-6h-1x-0.5%"),
    ],
)
def test_error_ratio_thresholds_at_99_5(rule: BurnRateRule, expected_error_ratio: float) -> None:
    budget = error_budget(0.995)
    assert rule.factor * budget == pytest.approx(expected_error_ratio, rel=1e-12)
    assert burn_rate(expected_error_ratio * 1.01, budget) > rule.factor
    assert burn_rate(expected_error_ratio * 0.99, budget) < rule.factor


@pytest.mark.parametrize(
    ("by_window", "firing", "long_burn", "short_burn"),
    [
        pytest.param(
            {3600: result(3600, 20.0), 300: result(300, 30.0)},
            True,
            20.0,
            30.0,
            id="both-above-fires",
        ),
        pytest.param(
            {3600: result(3600, 20.0), 300: result(300, 2.0)},
            False,
            20.0,
            2.0,
            id="long-above-short-below-quiet",
        ),
        pytest.param(
            {3600: result(3600, 2.0), 300: result(300, 30.0)},
            False,
            2.0,
            30.0,
            id="short-above-long-below-quiet",
        ),
        pytest.param(
            {3600: result(3600, 14.4), 300: result(300, 14.4)},
            False,
            14.4,
            14.4,
            id="exactly-equal-quiet",
        ),
        pytest.param(
            {3600: result(3600, 14.4), 300: result(300, 99.0)},
            False,
            14.4,
            99.0,
            id="long-equal-short-above-quiet",
        ),
        pytest.param(
            {3600: result(3600, 0.0), 300: result(300, 0.0)}, False, 0.0, 0.0, id="no-errors-quiet"
        ),
    ],
)
def test_decide_known_windows(
    by_window: dict[int, WindowResult], firing: bool, long_burn: float, short_burn: float
) -> None:
    (decision,) = decide([PAGE_1H], by_window)
    assert decision.rule == PAGE_1H
    assert decision.firing is firing
    assert (decision.long_burn, decision.short_burn) == (long_burn, short_burn)
    assert decision.reason is None


@pytest.mark.parametrize(
    ("by_window", "long_burn", "short_burn", "reason"),
    [
        pytest.param(
            {3600: result(3600, 20.0), 300: result(300, None, "no traffic in 5m")},
            20.0,
            None,
            "5m burn rate unknown: no traffic in 5m",
            id="short-unknown",
        ),
        pytest.param(
            {3600: result(3600, None, "prometheus unreachable"), 300: result(300, 30.0)},
            None,
            30.0,
            "1h burn rate unknown: prometheus unreachable",
            id="long-unknown",
        ),
        pytest.param(
            {300: result(300, 30.0)}, None, 30.0, "no result for the 1h window", id="long-missing"
        ),
        pytest.param(
            {},
            None,
            None,
            "no result for the 1h window; no result for the 5m window",
            id="both-missing",
        ),
    ],
)
def test_decide_unknown_window_is_undecided(
    by_window: dict[int, WindowResult],
    long_burn: float | None,
    short_burn: float | None,
    reason: str,
) -> None:
    (decision,) = decide([PAGE_1H], by_window)
    assert decision.firing is None
    assert (decision.long_burn, decision.short_burn) == (long_burn, short_burn)
    assert decision.reason == reason


def test_decide_default_rules_in_order() -> None:
    burns = {300: 20.0, 1800: 7.0, 3600: 15.0, 7200: 2.0, 21600: 6.5, 86400: 4.0, 259200: 0.5}
    decisions = decide(DEFAULT_BURN_RATE_RULES, {w: result(w, b) for w, b in burns.items()})
    assert [(d.rule, d.firing) for d in decisions] == [
        (DEFAULT_BURN_RATE_RULES[0], True),  # 15 and 20 > 14.4
        (DEFAULT_BURN_RATE_RULES[1], True),  # 6.5 and 7 > 6
        (DEFAULT_BURN_RATE_RULES[2], False),  # 1d 4 > 3 but 2h 2 < 3
        (DEFAULT_BURN_RATE_RULES[3], False),  # 3d 0.5 < 1
    ]
