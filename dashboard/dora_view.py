"""What the DORA page shows: the rolling scorecards' tiles, and the weekly scorecards per team.

No Streamlit here. Each tile: the figure's value, its level with the report year, the trend
against the previous period of the same length, and (in the help) the house goal, the sample
size and why there is no level. Unknown values read "unknown", never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

import sloctl.report.fmt as fmt
from sloctl.core.humanize import duration_text
from sloctl.dashboard.view import Tile
from sloctl.dora.compute import Figure
from sloctl.dora.levels import Metric
from sloctl.report.scorecard import PeriodScorecard
from sloctl.store.scorecards import StoredScorecard

TITLES = {
    Metric.DEPLOYMENT_FREQUENCY: "Deployment frequency",
    Metric.LEAD_TIME: "Lead time for changes",
    Metric.CHANGE_FAILURE_RATE: "Change failure rate",
    Metric.RECOVERY_TIME: "Failed deployment recovery",
    Metric.TIME_TO_RESTORE: "Time to restore",
    Metric.REWORK_RATE: "Rework rate (beta)",
}
TREND_COLORS = {"better": "green", "worse": "red", "same": "gray"}
KIND_ORDER = {"organisation": 0, "team": 1, "service": 2}


def scopes(cards: Sequence[StoredScorecard]) -> list[str]:
    """The organisation first, then teams, then services (each sorted)."""
    ordered = sorted(cards, key=lambda c: (KIND_ORDER[c.kind], c.scope))
    return [c.scope for c in ordered]



def number_text(value: float | None, unit: str) -> str:
    """A figure's number in its unit; "unknown" when None."""
    if value is None:
        return "unknown"
    if unit == "seconds":
        return duration_text(value)
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    return f"{value:.2f}/day"


def _help(figure: Figure) -> str:
    parts = []
    if figure.goal is not None:
        met = figure.goal.met
        verdict = "unknown" if met is None else "met" if met else "missed"
        parts.append(f"House goal {figure.goal.text}: {verdict}.")
    sample = f"n = {figure.n}"
    if figure.numerator is not None:
        sample += f" ({figure.numerator} of {figure.denominator})"
    if figure.p90 is not None:
        sample += f", p90 {number_text(figure.p90, figure.unit)}"
    parts.append(sample + ".")
    parts.append(f"Previous period: {number_text(figure.previous, figure.unit)}.")
    if figure.level is None and figure.no_level_reason:
        parts.append(f"No level: {figure.no_level_reason}.")
    parts += list(figure.notes)
    return " ".join(parts)


def tile(figure: Figure) -> Tile:
    """One figure as a tile: value; level (report year) and trend; goal and n in the help."""
    level = figure.level.value if figure.level else None
    graded = f"{level} ({figure.report_year})" if level else f"no level ({figure.report_year})"
    trend = figure.trend
    return Tile(
        TITLES[figure.metric],
        number_text(figure.value, figure.unit),
        f"{graded} · {trend or 'no trend'}",
        TREND_COLORS.get(str(trend), "off"),
        _help(figure),
    )


def tiles(card: StoredScorecard) -> list[Tile]:
    """The figures of one scope, in the order of ``Metric``."""
    by_metric = {f.metric: f for f in card.card.figures}
    return [tile(by_metric[metric]) for metric in Metric if metric in by_metric]


def period_caption(card: StoredScorecard, when: str) -> str:
    return (
        f"{card.scope}: deployments finished {card.card.since:%Y-%m-%d %H:%M} - "
        f"{card.card.until:%Y-%m-%d %H:%M} UTC, computed {when}; trend against the period before. "
        "Levels are for trending a service against itself, not targets."
    )


def scope_of(team: str | None, service: str | None, scopes: Sequence[str]) -> str:
    """The stored DORA scope the filters name ("svc/env", "team T" or the organisation)."""
    wanted = [s for s in scopes if service and s.startswith(f"{service}/")]
    wanted += [s for s in scopes if team and s == f"team {team}"]
    wanted += [s for s in scopes if s == "organisation"]
    return (wanted or list(scopes))[0]


def team_table(cards: Mapping[str, PeriodScorecard]) -> pd.DataFrame:
    """Per scope (organisation, teams): each figure over the trailing weeks with its level."""
    rows = []
    for name, card in cards.items():
        row: dict[str, object] = {"Scope": name}
        for d in card.dora:
            level = d.level or "no level"
            row[d.title] = f"{fmt.value(d.unit, d.trailing)} ({level})"
        rows.append(row)
    return pd.DataFrame(rows)
