"""Plotly figures of the weekly scorecards: KPI trends over the trailing periods, one line per
team, and the email's own chart definitions (``sloctl.report.charts``) drawn for the preview.

Values are drawn in the unit the tiles write them in (percent, minutes, per day); a period
without data is a gap, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sloctl.dashboard.kpi_view import scaled
from sloctl.report.charts import Bars, Sparkline
from sloctl.report.scorecard import Kpi, PeriodScorecard

DORA_KPIS = ("deploys", "lead_time", "change_failure_rate", "restore")
AXIS = {"ratio": "%", "seconds": "min", "per_day": "per day", "per_day_per_service": "per day",
        "count": "", "sli": "%"}
ROLE_COLOURS = {"ok": "#2e7d32", "warning": "#ef6c00", "breached": "#d32f2f",
                "neutral": "#757575"}


def _points(kpi: Kpi, keys: Sequence[str]) -> tuple[list[str], list[float | None]]:
    values = list(kpi.trend)
    return list(keys[-len(values):]) if values else [], [scaled(kpi.unit, v) for v in values]


def kpi_trends(card: PeriodScorecard, keys: Sequence[str] = DORA_KPIS) -> go.Figure:
    """One panel per KPI (title with its goal): its value per period, oldest first."""
    kpis = [card.kpi(k) for k in keys]
    titles = [f"{k.title} ({AXIS.get(k.unit, '')})" + (f"<br>goal {k.goal}" if k.goal else "")
              for k in kpis]
    fig = make_subplots(rows=(len(kpis) + 1) // 2, cols=2, subplot_titles=titles,
                        vertical_spacing=0.22)
    for i, kpi in enumerate(kpis):
        x, y = _points(kpi, card.trend_keys)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=kpi.title,
                                 connectgaps=False), row=i // 2 + 1, col=i % 2 + 1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=560, showlegend=False, margin={"l": 10, "r": 10, "t": 80, "b": 10},
                      title=f"{card.scope.title}: the last {len(card.trend_keys)} periods")
    return fig


def team_trends(cards: Mapping[str, PeriodScorecard], key: str) -> go.Figure:
    """One KPI per period, one line per scope (organisation and each team)."""
    fig = go.Figure()
    title = key
    for name, card in cards.items():
        kpi = card.kpi(key)
        title = f"{kpi.title} ({AXIS.get(kpi.unit, '')})" + (f" · goal {kpi.goal}"
                                                             if kpi.goal else "")
        x, y = _points(kpi, card.trend_keys)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, connectgaps=False))
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(title=title, height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h"})
    return fig


def sparkline(chart: Sparkline) -> go.Figure:
    """An email sparkline: the KPI per period, the last point in its role's colour, the goal."""
    y = [scaled(chart.unit, v) for v in chart.values]
    fig = go.Figure(go.Scatter(x=list(chart.labels), y=y, mode="lines", connectgaps=False,
                               line={"color": "#57606a"}, name=chart.title))
    if y:
        fig.add_trace(go.Scatter(x=[chart.labels[-1]], y=[y[-1]], mode="markers",
                                 marker={"color": ROLE_COLOURS[chart.role], "size": 9}))
    if chart.goal is not None:
        fig.add_hline(y=scaled(chart.unit, chart.goal), line={"dash": "dot", "color": "#57606a"})
    fig.update_layout(title=chart.title, height=170, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis={"nticks": 4})
    return fig


def bars(chart: Bars) -> go.Figure:
    """The email's budget bars: budget left per SLO (worst first), the warning threshold."""
    fig = go.Figure(go.Bar(x=[v * 100 for v in chart.values], y=list(chart.labels),
                           orientation="h",
                           marker={"color": [ROLE_COLOURS[r] for r in chart.roles]}))
    if chart.threshold is not None:
        fig.add_vline(x=chart.threshold * 100, line={"dash": "dot", "color": "#57606a"})
    fig.update_layout(title=chart.title, height=chart.drawn_height + 60,
                      yaxis={"autorange": "reversed"}, xaxis_title="budget left (%)",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
