"""The DORA level tables per report year: band edges, missing tables and their reasons."""

from __future__ import annotations

import pytest

from sloctl.dora.levels import (
    DAY,
    HOUR,
    REPORT_TABLES,
    WEEK,
    DaysMeasure,
    Level,
    Metric,
    grade_days,
    grade_upper,
    report_table,
)

E, H, M, L = Level.ELITE, Level.HIGH, Level.MEDIUM, Level.LOW


@pytest.mark.parametrize(
    ("year", "metric", "value", "level"),
    [
        pytest.param(2023, Metric.LEAD_TIME, HOUR, E, id="2023-lt-1h-elite"),
        pytest.param(2023, Metric.LEAD_TIME, DAY, H, id="2023-lt-1d-high"),
        pytest.param(2023, Metric.LEAD_TIME, WEEK, M, id="2023-lt-1w-medium"),
        pytest.param(2023, Metric.LEAD_TIME, 30 * DAY, L, id="2023-lt-30d-low"),
        pytest.param(2021, Metric.LEAD_TIME, HOUR - 1, E, id="2021-lt-59m59s-elite"),
        pytest.param(2021, Metric.LEAD_TIME, HOUR, H, id="2021-lt-1h-high"),
        pytest.param(2021, Metric.LEAD_TIME, 179 * DAY, M, id="2021-lt-179d-medium"),
        pytest.param(2021, Metric.LEAD_TIME, 180 * DAY, L, id="2021-lt-180d-low"),
        pytest.param(2024, Metric.LEAD_TIME, 2 * DAY, H, id="2024-lt-2d-high"),
        pytest.param(2023, Metric.RECOVERY_TIME, 59 * 60, E, id="2023-fdrt-59m-elite"),
        pytest.param(2023, Metric.RECOVERY_TIME, 2 * DAY, M, id="2023-fdrt-2d-medium"),
        pytest.param(2024, Metric.RECOVERY_TIME, 2 * DAY, M, id="2024-fdrt-2d-medium"),
        pytest.param(2024, Metric.RECOVERY_TIME, WEEK, L, id="2024-fdrt-1w-low"),
        pytest.param(2021, Metric.TIME_TO_RESTORE, 12 * HOUR, H, id="2021-ttr-12h-high"),
        pytest.param(2023, Metric.CHANGE_FAILURE_RATE, 0.05, E, id="2023-cfr-5pct-elite"),
        pytest.param(2023, Metric.CHANGE_FAILURE_RATE, 0.0501, H, id="2023-cfr-5.01pct-high"),
        pytest.param(2023, Metric.CHANGE_FAILURE_RATE, 0.15, M, id="2023-cfr-15pct-medium"),
        pytest.param(2023, Metric.CHANGE_FAILURE_RATE, 0.16, L, id="2023-cfr-16pct-low"),
        pytest.param(2021, Metric.CHANGE_FAILURE_RATE, 0.15, E, id="2021-cfr-15pct-elite"),
        pytest.param(2021, Metric.CHANGE_FAILURE_RATE, 0.20, H, id="2021-cfr-20pct-high"),
        pytest.param(2021, Metric.CHANGE_FAILURE_RATE, 0.30, M, id="2021-cfr-30pct-medium"),
        pytest.param(2021, Metric.CHANGE_FAILURE_RATE, 0.31, L, id="2021-cfr-31pct-low"),
    ],
)
def test_lower_is_better_bands(year: int, metric: Metric, value: float, level: Level) -> None:
    table = report_table(year)
    bands = table.durations.get(metric) or table.rates[metric]
    assert grade_upper(bands, value) == level


@pytest.mark.parametrize(
    ("year", "weekly", "monthly", "in_window", "level"),
    [
        pytest.param(2023, 5.0, 20.0, 20.0, E, id="2023-5-days-a-week-elite"),
        pytest.param(2023, 1.0, 4.0, 4.0, H, id="2023-1-day-a-week-high"),
        pytest.param(2023, 0.5, 1.0, 1.0, M, id="2023-1-day-a-month-medium"),
        pytest.param(2023, 0.0, 0.5, 1.0, L, id="2023-rarer-low"),
        pytest.param(2021, 4.0, 16.0, 16.0, H, id="2021-4-days-a-week-high"),
        pytest.param(2021, 0.0, 0.5, 1.0, M, id="2021-once-in-window-medium"),
        pytest.param(2021, 0.0, 0.0, 0.0, L, id="2021-never-low"),
    ],
)
def test_deployment_frequency_bands(
    year: int, weekly: float, monthly: float, in_window: float, level: Level
) -> None:
    measures = {
        DaysMeasure.WEEKLY_MEDIAN: weekly,
        DaysMeasure.MONTHLY_MEDIAN: monthly,
        DaysMeasure.IN_WINDOW: in_window,
    }
    assert grade_days(report_table(year).frequency, measures) == level


@pytest.mark.parametrize(
    ("year", "metric", "words"),
    [
        pytest.param(2021, Metric.RECOVERY_TIME, "introduced in 2023", id="2021-no-fdrt"),
        pytest.param(2023, Metric.TIME_TO_RESTORE, "use report year 2021", id="2023-no-ttr"),
        pytest.param(2024, Metric.CHANGE_FAILURE_RATE, "not monotonic", id="2024-cfr-reference"),
        pytest.param(2024, Metric.REWORK_RATE, "no rework-rate levels", id="2024-no-rework"),
    ],
)
def test_missing_tables_say_why(year: int, metric: Metric, words: str) -> None:
    table = report_table(year)
    assert metric not in table.durations and metric not in table.rates
    assert words in table.no_table_reason[metric]


def test_years_and_provenance() -> None:
    assert sorted(REPORT_TABLES) == [2021, 2023, 2024]
    assert report_table(2024).label == "2024 DORA bands (second-hand)"
    assert report_table(2023).label == "2023 DORA bands"
    assert "second-hand" in report_table(2023).source  # non-elite rows
    with pytest.raises(ValueError, match="report year 2022; use one of 2021, 2023, 2024"):
        report_table(2022)
