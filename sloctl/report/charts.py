"""Chart definitions of the scorecard, independent of any drawing library (pure).

The email draws them with matplotlib (``sloctl.report.chart_png``); the app can draw the same
definitions with plotly, so both show the same series, goals and thresholds:

    for chart in email_charts(card):      # Sparkline per KPI, Bars of budget left per SLO
        png = render_png(chart)           # email; the app: plotly from chart.values etc.

Colours are roles (``ok``, ``warning``, ``breached``, ``neutral``), never the only carrier of
meaning: every chart has a title and alt text with its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sloctl.report.fmt import percent, value
from sloctl.report.scorecard import Kpi, PeriodScorecard, SloLine, Status

ROLE_OF_STATUS = {Status.OK: "ok", Status.WARNING: "warning", Status.BREACHED: "breached",
                  Status.INSUFFICIENT_DATA: "neutral"}


@dataclass(frozen=True)
class Sparkline:
    """A KPI over the trailing periods (oldest first; None: no data), with its goal line."""

    cid: str  # content id in the email (``name@sloctl``), unique per message
    title: str
    values: tuple[float | None, ...]
    labels: tuple[str, ...]  # the period of each value
    goal: float | None
    unit: str
    role: str  # the colour of the last point: ok, warning, breached, neutral
    alt: str
    width: int = 120  # CSS pixels (drawn at 2x for sharp screens)
    height: int = 36


@dataclass(frozen=True)
class Bars:
    """Horizontal bars, one per item (worst first), with a threshold line."""

    cid: str
    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    roles: tuple[str, ...]
    threshold: float | None
    unit: str
    alt: str
    width: int = 560
    height: int = 0  # 0: from the number of bars

    @property
    def drawn_height(self) -> int:
        return self.height or 28 + 22 * max(len(self.values), 1)


Chart = Sparkline | Bars


KPI_GOALS = {"availability": "goal_availability"}


def kpi_sparkline(kpi: Kpi, labels: tuple[str, ...], goal: float | None = None) -> Sparkline:
    """The 12-period trend of one KPI tile."""
    values = kpi.trend or ()
    role = "neutral" if kpi.goal_met is None else ("ok" if kpi.goal_met else "breached")
    shown = ", ".join(f"{label} {value(kpi.unit, v)}"
                      for label, v in zip(labels[-len(values):], values, strict=False)
                      if v is not None)
    return Sparkline(
        cid=f"spark-{kpi.key}@sloctl", title=kpi.title, values=tuple(values),
        labels=labels[-len(values):] if values else (), goal=goal, unit=kpi.unit, role=role,
        alt=f"{kpi.title} per period: {shown or 'no data'}",
    )


def budget_bars(slos: tuple[SloLine, ...], warning: float, limit: int = 10) -> Bars:
    """Budget left in each SLO's window, the ``limit`` lowest first (unknown ones left out)."""
    known = [s for s in slos if s.budget_left is not None][:limit]
    known.sort(key=lambda s: (s.budget_left if s.budget_left is not None else 0.0, s.slo_id))
    values = tuple(max(-1.0, min(1.0, s.budget_left or 0.0)) for s in known)
    alt = "; ".join(f"{s.slo_id} {percent(s.budget_left, 1)} {s.status.value}"
                    for s in known)
    return Bars(
        cid="budget-left@sloctl", title="Error budget left in each SLO's window",
        labels=tuple(s.slo_id for s in known), values=values,
        roles=tuple(ROLE_OF_STATUS[s.status] for s in known), threshold=warning,
        unit="ratio", alt=f"Budget left: {alt or 'no SLO with data'}",
    )


def email_charts(card: PeriodScorecard, warning_budget_left: float) -> tuple[Chart, ...]:
    """The charts of the email: a sparkline per KPI with a trend, the budget bars."""
    goals = {"availability": _goal_value(card.kpi("availability"))}
    charts: list[Chart] = [
        kpi_sparkline(k, card.trend_keys, goals.get(k.key)) for k in card.kpis if k.trend
    ]
    if any(s.budget_left is not None for s in card.slos):
        charts.append(budget_bars(card.slos, warning_budget_left))
    return tuple(charts)


def _goal_value(kpi: Kpi) -> float | None:
    text = kpi.goal.replace("%", "").strip()
    try:
        return float(text) / 100
    except ValueError:
        return None
