"""What the scorecard's DORA section shows, taken from stored scorecards: scopes and tiles.

No Streamlit here. Each tile: the figure's value, its level with the report year, the trend
against the previous period of the same length, and (in the help) the house goal, the sample
size and why there is no level. Unknown values read "unknown", never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.view import Tile
from sloctl.dora.levels import Metric
from sloctl.store.dora_results import StoredScorecard

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


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def value_text(figure: Mapping[str, Any], key: str = "value") -> str:
    """The figure's value (or ``previous``, ``p90``) in its unit; "unknown" when None."""
    value = figure.get(key)
    if value is None:
        return "unknown"
    unit = figure.get("unit")
    if unit == "seconds":
        return _duration(float(value))
    if unit == "ratio":
        return f"{float(value) * 100:.1f} %"
    return f"{float(value):.2f}/day"


def _help(figure: Mapping[str, Any]) -> str:
    parts = []
    goal = figure.get("house_goal")
    if isinstance(goal, Mapping):
        met = goal.get("met")
        verdict = "unknown" if met is None else "met" if met else "missed"
        parts.append(f"House goal {goal.get('text')}: {verdict}.")
    sample = f"n = {figure.get('n')}"
    if figure.get("numerator") is not None:
        sample += f" ({figure.get('numerator')} of {figure.get('denominator')})"
    if figure.get("p90") is not None:
        sample += f", p90 {value_text(figure, 'p90')}"
    parts.append(sample + ".")
    parts.append(f"Previous period: {value_text(figure, 'previous')}.")
    if figure.get("level") is None and figure.get("no_level_reason"):
        parts.append(f"No level: {figure.get('no_level_reason')}.")
    parts += [str(note) for note in figure.get("notes", [])]
    return " ".join(parts)


def tile(metric: Metric, figure: Mapping[str, Any]) -> Tile:
    """One figure as a tile: value; level (report year) and trend; goal and n in the help."""
    level = figure.get("level")
    year = figure.get("report_year")
    trend = figure.get("trend")
    graded = f"{level} ({year})" if level else f"no level ({year})"
    return Tile(
        TITLES[metric],
        value_text(figure),
        f"{graded} · {trend or 'no trend'}",
        TREND_COLORS.get(str(trend), "off"),
        _help(figure),
    )


def tiles(card: StoredScorecard) -> list[Tile]:
    """The six figures of one scope, in the order of ``Metric``."""
    return [tile(metric, card.metric(metric.value)) for metric in Metric]


def period_caption(card: StoredScorecard, when: str) -> str:
    return (
        f"{card.scope}: deployments finished {card.since:%Y-%m-%d %H:%M} - "
        f"{card.until:%Y-%m-%d %H:%M} UTC, computed {when}; trend against the period before. "
        "Levels are for trending a service against itself, not targets."
    )
