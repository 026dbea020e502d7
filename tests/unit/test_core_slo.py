"""SLI, error budget and SLO status from known event counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sloctl.core.burn import DEFAULT_BURN_RATE_RULES
from sloctl.core.slo import SLOStatus, evaluate_slo, window_result
from sloctl.core.windows import WindowCounts, WindowResult

DAY = 86400
PERIOD_30D = 30 * DAY
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALERT_WINDOWS = (300, 1800, 3600, 7200, 21600, 86400, 259200)


def evaluate(
    counts: list[WindowCounts], objective: float = 0.995, *, slo_window: int = PERIOD_30D
) -> SLOStatus:
    return evaluate_slo(
        slo_id="checkout/availability",
        service="checkout",
        name="availability",
        objective=objective,
        period=PERIOD_30D,
        period_elapsed=slo_window,
        at=AT,
        counts=counts,
        slo_window=slo_window,
    )


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param(
            WindowCounts(3600, bad=36.0, total=1000.0, coverage=1.0),
            WindowResult(3600, 0.964, 0.036, 7.2, 1000.0, 36.0, 1.0),
            id="36-of-1000-is-7.2x-at-99.5",
        ),
        pytest.param(
            WindowCounts(300, bad=0.0, total=50.0),
            WindowResult(300, 1.0, 0.0, 0.0, 50.0, 0.0, None),
            id="no-errors",
        ),
        pytest.param(
            WindowCounts(300, bad=12.5, total=10.0),
            WindowResult(300, 0.0, 1.0, 200.0, 10.0, 10.0, None),
            id="bad-above-total-clamped",
        ),
        pytest.param(
            WindowCounts(300, bad=-1.0, total=10.0),
            WindowResult(300, 1.0, 0.0, 0.0, 10.0, 0.0, None),
            id="negative-bad-clamped-to-zero",
        ),
        pytest.param(
            WindowCounts(1800, bad=4.0, total=400.0, interpolated=True, coverage=0.5),
            WindowResult(1800, 0.99, 0.01, 2.0, 400.0, 4.0, 0.5, interpolated=True),
            id="interpolated-and-coverage-pass-through",
        ),
        pytest.param(
            WindowCounts(300, bad=0.0, total=0.0),
            WindowResult(300, None, None, None, 0.0, 0.0, None, reason="no traffic in 5m"),
            id="zero-traffic-unknown-not-100%",
        ),
        pytest.param(
            WindowCounts(3600, bad=None, total=None, reason="prometheus unreachable"),
            WindowResult(3600, None, None, None, None, None, None, reason="prometheus unreachable"),
            id="unknown-propagates-reason",
        ),
        pytest.param(
            WindowCounts(3600, bad=3.0, total=None),
            WindowResult(3600, None, None, None, None, 3.0, None, reason="no event counts for 1h"),
            id="unknown-without-reason",
        ),
        pytest.param(
            WindowCounts(300, bad=0.0, total=-5.0),
            WindowResult(
                300, None, None, None, -5.0, 0.0, None, reason="negative event total (-5) in 5m"
            ),
            id="negative-total-unknown",
        ),
    ],
)
def test_window_result(counts: WindowCounts, expected: WindowResult) -> None:
    assert_same(window_result(counts, 0.005), expected)


def assert_same(got: WindowResult, expected: WindowResult) -> None:
    """Field-by-field equality, floats to 1e-12 relative."""
    for field in ("sli", "error_ratio", "burn_rate", "total", "bad", "coverage"):
        want = getattr(expected, field)
        have = getattr(got, field)
        assert (have is None) == (want is None), field
        if want is not None:
            assert have == pytest.approx(want, rel=1e-12, abs=1e-15), field
    assert (got.window, got.interpolated, got.reason) == (
        expected.window,
        expected.interpolated,
        expected.reason,
    )


# Budget at 99.5 % over 30 d (EB 0.005): 216 budget minutes in total.
@pytest.mark.parametrize(
    ("bad", "remaining", "remaining_minutes", "remaining_events", "breaching"),
    [
        pytest.param(0.0, 1.0, 216.0, 50.0, False, id="0%-errors-full-budget"),
        pytest.param(25.0, 0.5, 108.0, 25.0, False, id="0.25%-errors-half-budget"),
        pytest.param(50.0, 0.0, 0.0, 0.0, False, id="0.5%-errors-budget-spent-at-objective"),
        pytest.param(100.0, -1.0, -216.0, -50.0, True, id="1%-errors-overspent"),
    ],
)
def test_budget_at_99_5_over_30_days(
    bad: float,
    remaining: float,
    remaining_minutes: float,
    remaining_events: float,
    breaching: bool,
) -> None:
    status = evaluate([WindowCounts(PERIOD_30D, bad=bad, total=10_000.0)])
    assert status.error_budget == 0.005
    assert status.sli == pytest.approx(1 - bad / 10_000, rel=1e-12)
    assert status.budget_total_minutes == pytest.approx(216.0, rel=1e-12)
    assert status.budget_remaining == pytest.approx(remaining, abs=1e-12)
    assert status.budget_remaining_minutes == pytest.approx(remaining_minutes, abs=1e-9)
    assert status.budget_remaining_events == pytest.approx(remaining_events, abs=1e-9)
    assert status.breaching is breaching
    assert status.reason is None


# SRE workbook table 5-4 at 99.9 %: a full budget and a constant current (1 h) burn rate.
@pytest.mark.parametrize(
    ("bad_per_1000", "expected"),
    [
        pytest.param(1.0, timedelta(days=30), id="1x-30-days"),
        pytest.param(2.0, timedelta(days=15), id="2x-15-days"),
        pytest.param(10.0, timedelta(days=3), id="10x-3-days"),
        pytest.param(1000.0, timedelta(minutes=43.2), id="1000x-43.2-minutes"),
    ],
)
def test_exhaustion_uses_current_window_burn(bad_per_1000: float, expected: timedelta) -> None:
    status = evaluate(
        [
            WindowCounts(3600, bad=bad_per_1000, total=1000.0),
            WindowCounts(PERIOD_30D, bad=0.0, total=1_000_000.0),
        ],
        objective=0.999,
    )
    assert status.budget_remaining == 1.0
    assert status.exhaustion_at is not None
    assert (status.exhaustion_at - AT).total_seconds() == pytest.approx(
        expected.total_seconds(), rel=1e-9
    )


def test_full_evaluation_orders_windows_and_decides_rules() -> None:
    # Error ratios per window at 99.5 %: 8 % in 5m/1h (page 1 fires), 2 % elsewhere.
    ratios = {300: 0.08, 1800: 0.02, 3600: 0.08, 7200: 0.02, 21600: 0.02, 86400: 0.02}
    ratios |= {259200: 0.02, PERIOD_30D: 0.001}
    counts = [WindowCounts(w, bad=r * 10_000, total=10_000.0) for w, r in reversed(ratios.items())]
    status = evaluate(counts)
    assert [w.window for w in status.windows] == [*ALERT_WINDOWS, PERIOD_30D]
    assert [d.firing for d in status.decisions] == [True, False, True, True]
    assert [d.rule for d in status.decisions] == list(DEFAULT_BURN_RATE_RULES)
    window_1h = status.window(3600)
    assert window_1h is not None and window_1h.burn_rate == pytest.approx(16.0, rel=1e-12)
    assert status.sli == pytest.approx(0.999, rel=1e-12)
    assert status.budget_remaining == pytest.approx(0.8, rel=1e-12)
    assert status.breaching is False
    # 0.8 of 30 d at the 1 h burn rate of 16: 0.8 * 30 d / 16 = 1.5 d.
    assert status.exhaustion_at is not None
    assert (status.exhaustion_at - AT).total_seconds() == pytest.approx(1.5 * DAY, rel=1e-9)
    assert (status.slo_id, status.service, status.name) == (
        "checkout/availability",
        "checkout",
        "availability",
    )
    assert (status.objective, status.period, status.period_elapsed, status.at) == (
        0.995,
        PERIOD_30D,
        PERIOD_30D,
        AT,
    )


def test_calendar_period_uses_elapsed_slo_window_but_full_period_budget() -> None:
    elapsed = 10 * DAY
    status = evaluate([WindowCounts(elapsed, bad=25.0, total=10_000.0)], slo_window=elapsed)
    assert [w.window for w in status.windows] == [elapsed]
    assert status.period_elapsed == elapsed
    assert status.budget_remaining == pytest.approx(0.5, rel=1e-12)
    assert status.budget_total_minutes == pytest.approx(216.0, rel=1e-12)


def test_unknown_windows_make_status_unknown_with_joined_reasons() -> None:
    status = evaluate(
        [
            WindowCounts(300, bad=0.0, total=0.0),
            WindowCounts(3600, None, None, reason="prometheus unreachable"),
            WindowCounts(PERIOD_30D, None, None, reason="prometheus unreachable"),
        ]
    )
    assert status.sli is None
    assert status.budget_remaining is None
    assert status.budget_remaining_minutes is None
    assert status.budget_remaining_events is None
    assert status.breaching is None
    assert status.exhaustion_at is None
    assert status.budget_total_minutes == pytest.approx(216.0, rel=1e-12)
    assert status.reason == "no traffic in 5m; prometheus unreachable"
    # 5m has no traffic: the 1h/5m rule cannot fire (Prometheus' rule sees NaN); the others
    # cannot be decided while Prometheus is unreachable.
    assert [d.firing for d in status.decisions] == [False, None, None, None]
    assert status.decisions[0].reason == "5m: no traffic in 5m"


def test_missing_slo_window_is_unknown_not_a_crash() -> None:
    status = evaluate([WindowCounts(3600, bad=1.0, total=100.0)])
    assert [w.window for w in status.windows] == [3600, PERIOD_30D]
    assert status.sli is None
    assert status.reason == "no event counts for the SLO window 30d"


def test_missing_current_window_gives_no_exhaustion() -> None:
    status = evaluate([WindowCounts(PERIOD_30D, bad=25.0, total=10_000.0)])
    assert status.budget_remaining == pytest.approx(0.5, rel=1e-12)
    assert status.exhaustion_at is None


def test_overspent_budget_is_exhausted_now() -> None:
    status = evaluate([WindowCounts(PERIOD_30D, bad=100.0, total=10_000.0)])
    assert status.exhaustion_at == AT


def test_duplicate_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="two event counts for the 1h window"):
        evaluate([WindowCounts(3600, 1.0, 10.0), WindowCounts(3600, 2.0, 10.0)])


def test_percentage_objective_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"0\.995 for 99\.5 %"):
        evaluate([WindowCounts(PERIOD_30D, 1.0, 10.0)], objective=99.5)
