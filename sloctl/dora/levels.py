"""DORA performance levels as data, keyed by report year (reference/dora.md §5 and §E).

The published cluster tables overlap and change every year, so each year holds the contiguous
bands sloctl grades with, the source, and whether the table is second-hand. A metric without
bands for a year is not graded for that year; ``no_table_reason`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
MONTH = 30 * DAY

DEFAULT_REPORT_YEAR = 2023


class Level(StrEnum):
    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Metric(StrEnum):
    DEPLOYMENT_FREQUENCY = "deployment_frequency"
    LEAD_TIME = "lead_time"
    CHANGE_FAILURE_RATE = "change_failure_rate"
    RECOVERY_TIME = "failed_deployment_recovery_time"
    TIME_TO_RESTORE = "time_to_restore"
    REWORK_RATE = "rework_rate"


class DaysMeasure(StrEnum):
    """Inputs of the deployment-frequency grade (deployment days, E3)."""

    WEEKLY_MEDIAN = "median deployment days per week"
    MONTHLY_MEDIAN = "median deployment days per month"
    IN_WINDOW = "deployment days in the window"


@dataclass(frozen=True)
class UpperBand:
    """``level`` while value < ``upper`` (<= if ``inclusive``); ``upper`` None: anything else."""

    level: Level
    upper: float | None
    inclusive: bool = False


@dataclass(frozen=True)
class DaysBand:
    """``level`` when ``measure`` >= ``at_least``; ``at_least`` 0 is the catch-all."""

    level: Level
    measure: DaysMeasure
    at_least: float


@dataclass(frozen=True)
class ReportTable:
    """One report year's bands and their provenance."""

    year: int
    source: str
    second_hand: bool
    frequency: tuple[DaysBand, ...]
    durations: dict[Metric, tuple[UpperBand, ...]]
    rates: dict[Metric, tuple[UpperBand, ...]]
    no_table_reason: dict[Metric, str]

    @property
    def label(self) -> str:
        return f"{self.year} DORA bands" + (" (second-hand)" if self.second_hand else "")


def _lower_is_better(*bounds: tuple[Level, float | None, bool]) -> tuple[UpperBand, ...]:
    return tuple(UpperBand(level, upper, inclusive) for level, upper, inclusive in bounds)


_E, _H, _M, _L = Level.ELITE, Level.HIGH, Level.MEDIUM, Level.LOW
_W, _MO, _IN = DaysMeasure.WEEKLY_MEDIAN, DaysMeasure.MONTHLY_MEDIAN, DaysMeasure.IN_WINDOW
_FREQ_2023 = (DaysBand(_E, _W, 5), DaysBand(_H, _W, 1), DaysBand(_M, _MO, 1), DaysBand(_L, _MO, 0))
_NO_REWORK = "no rework-rate levels are published (2024 added the metric without bands)"

REPORT_TABLES: dict[int, ReportTable] = {
    2021: ReportTable(
        year=2021,
        source="2021 State of DevOps report p.10 (official); contiguous bands as DevLake's "
        "2021 option, because the published ranges overlap",
        second_hand=False,
        frequency=(
            DaysBand(_E, _W, 5),
            DaysBand(_H, _MO, 1),
            DaysBand(_M, _IN, 1),  # "once per month - once every 6 months"
            DaysBand(_L, _IN, 0),
        ),
        durations={
            Metric.LEAD_TIME: _lower_is_better(
                (_E, HOUR, False), (_H, WEEK, False), (_M, 180 * DAY, False), (_L, None, False)
            ),
            Metric.TIME_TO_RESTORE: _lower_is_better(
                (_E, HOUR, False), (_H, DAY, False), (_M, WEEK, False), (_L, None, False)
            ),
        },
        rates={
            Metric.CHANGE_FAILURE_RATE: _lower_is_better(
                (_E, 0.15, True), (_H, 0.20, True), (_M, 0.30, True), (_L, None, False)
            ),
        },
        no_table_reason={
            Metric.RECOVERY_TIME: "the 2021 report has no failed deployment recovery time "
            "(introduced in 2023); use report year 2023",
            Metric.REWORK_RATE: _NO_REWORK,
        },
    ),
    2023: ReportTable(
        year=2023,
        source="2023 report: elite row official (infographic), other rows second-hand "
        "(Octopus Deploy blog); contiguous bands as DevLake's 2023 option",
        second_hand=False,
        frequency=_FREQ_2023,
        durations={
            Metric.LEAD_TIME: _lower_is_better(
                (_E, DAY, False), (_H, WEEK, False), (_M, MONTH, False), (_L, None, False)
            ),
            Metric.RECOVERY_TIME: _lower_is_better(
                (_E, HOUR, False), (_H, DAY, False), (_M, WEEK, False), (_L, None, False)
            ),
        },
        rates={
            Metric.CHANGE_FAILURE_RATE: _lower_is_better(
                (_E, 0.05, True), (_H, 0.10, True), (_M, 0.15, True), (_L, None, False)
            ),
        },
        no_table_reason={
            Metric.TIME_TO_RESTORE: "the 2023 report replaced time to restore with failed "
            "deployment recovery time; use report year 2021 to grade it",
            Metric.REWORK_RATE: _NO_REWORK,
        },
    ),
    2024: ReportTable(
        year=2024,
        source="2024 report, second-hand (Octopus Deploy blog); the PDF is not public",
        second_hand=True,
        frequency=_FREQ_2023,
        durations={
            Metric.LEAD_TIME: _lower_is_better(
                (_E, DAY, False), (_H, WEEK, False), (_M, MONTH, False), (_L, None, False)
            ),
            # Published: elite < 1 h, high < 1 d, medium < 1 d, low 1 w - 1 month; sloctl grades
            # 1 day - 1 week as medium so that the bands are contiguous.
            Metric.RECOVERY_TIME: _lower_is_better(
                (_E, HOUR, False), (_H, DAY, False), (_M, WEEK, False), (_L, None, False)
            ),
        },
        rates={},
        no_table_reason={
            Metric.CHANGE_FAILURE_RATE: "the 2024 CFR table is not monotonic (elite 5 %, high "
            "20 %, medium 10 %, low 40 %) and is shown for reference only; use report year 2023",
            Metric.TIME_TO_RESTORE: "the 2024 report has no time-to-restore table; use report "
            "year 2021",
            Metric.REWORK_RATE: _NO_REWORK,
        },
    ),
}


def report_table(year: int) -> ReportTable:
    """The bands of ``year``; ValueError naming the known years otherwise."""
    try:
        return REPORT_TABLES[year]
    except KeyError:
        known = ", ".join(str(y) for y in REPORT_TABLES)
        raise ValueError(
            f"no DORA level table for report year {year}; use one of {known}"
        ) from None


def grade_upper(bands: tuple[UpperBand, ...], value: float) -> Level:
    """The level of ``value`` in lower-is-better bands."""
    for band in bands:
        if band.upper is None:
            return band.level
        if value < band.upper or (band.inclusive and value == band.upper):
            return band.level
    return bands[-1].level


def grade_days(bands: tuple[DaysBand, ...], measures: dict[DaysMeasure, float]) -> Level:
    """The first level whose deployment-days measure reaches its bound."""
    for band in bands:
        if measures[band.measure] >= band.at_least:
            return band.level
    return bands[-1].level
