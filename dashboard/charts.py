"""Plotly figures: error-budget burn-downs, the golden signals of one service, and one service's
deployments, canary judgements and incidents on one timeline.

Unknown points are NaN and appear as gaps in the lines, never as zeros.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sloctl.core.incidents import AlertIncident
from sloctl.dashboard.canary_timeline import TimelineRow

HEIGHT = 340


def burn_down(history: pd.DataFrame, slo_id: str) -> go.Figure:
    """Budget remaining (%) over time with the exhaustion line at 0."""
    fig = go.Figure(
        go.Scatter(
            x=history["at"],
            y=history["budget_remaining"] * 100,
            mode="lines",
            name="budget remaining",
            line={"color": "#1565c0"},
            hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{y:.1f}%<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": "#d32f2f", "dash": "dash"}, annotation_text="exhausted")
    fig.update_layout(
        title=f"Error budget remaining: {slo_id}",
        yaxis_title="budget remaining (%)",
        height=HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=False,
    )
    return fig


SIGNAL_PANELS: tuple[tuple[str, tuple[tuple[str, str], ...], float], ...] = (
    # (panel title, ((column, line name), ...), scale)
    ("Traffic (req/s)", (("traffic", "traffic"),), 1.0),
    ("Error ratio (%)", (("error_ratio", "error ratio"),), 100.0),
    (
        "Latency (ms)",
        (("latency_p50", "p50"), ("latency_p95", "p95"), ("latency_p99", "p99")),
        1000.0,
    ),
    ("Saturation", (("saturation", "saturation"),), 1.0),
)


def golden_signals(history: pd.DataFrame, service: str) -> go.Figure:
    """Four panels: traffic, error ratio, latency p50/p95/p99, saturation."""
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[title for title, _, _ in SIGNAL_PANELS],
        shared_xaxes=True,
        vertical_spacing=0.12,
    )
    for i, (_, lines, scale) in enumerate(SIGNAL_PANELS):
        for column, name in lines:
            fig.add_trace(
                go.Scatter(x=history["at"], y=history[column] * scale, mode="lines", name=name),
                row=i // 2 + 1,
                col=i % 2 + 1,
            )
    # from zero: a steady signal must look steady, not like noise around its own value
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(
        title=f"Golden signals: {service}",
        height=2 * HEIGHT,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h"},
    )
    return fig


def burn_downs(histories: dict[str, pd.DataFrame], service: str) -> go.Figure:
    """Budget remaining (%) of each of a service's SLOs, with the exhaustion line at 0."""
    fig = go.Figure([
        go.Scatter(x=h["at"], y=h["budget_remaining"] * 100, mode="lines", name=slo_id,
                   hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{y:.1f}%<extra>" + slo_id + "</extra>")
        for slo_id, h in histories.items()
    ])
    fig.add_hline(y=0, line={"color": "#d32f2f", "dash": "dash"}, annotation_text="exhausted")
    fig.update_layout(title=f"Error budget remaining: {service}",
                      yaxis_title="budget remaining (%)", height=HEIGHT,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h"})
    return fig


LANES = ("deployment", "canary", "incident")
EVENT_COLOURS = {"success": "#2e7d32", "failure": "#d32f2f", "rollback": "#ef6c00",
                 "✅ pass": "#2e7d32", "❌ fail": "#d32f2f", "⏳ inconclusive": "#757575"}


def event_timeline(rows: list[TimelineRow], incidents: list[AlertIncident], since: datetime,
                   until: datetime, service: str) -> go.Figure:
    """Deployments, canary judgements and incidents of one service on one time axis."""
    fig = go.Figure()
    for kind in ("deployment", "canary"):
        mine = [r for r in rows if r.kind == kind]
        fig.add_trace(go.Scatter(
            x=[r.at for r in mine], y=[kind] * len(mine), mode="markers", name=kind,
            marker={"size": 10, "symbol": "diamond" if kind == "canary" else "circle",
                    "color": [EVENT_COLOURS.get(r.what, "#1565c0") for r in mine]},
            text=[f"{r.version} {r.what}<br>{r.detail}" for r in mine],
            hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{text}<extra></extra>"))
    xs: list[datetime | None] = []
    for i in incidents:
        xs += [i.start, i.end or until, None]
    fig.add_trace(go.Scatter(
        x=xs, y=["incident" if x is not None else None for x in xs], mode="lines+markers",
        name="incident", line={"color": "#d32f2f", "width": 8}, connectgaps=False,
        hovertemplate="%{x|%Y-%m-%d %H:%M}<extra>incident</extra>"))
    fig.update_layout(title=f"Deployments, canary judgements and incidents: {service}",
                      height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False,
                      yaxis={"categoryorder": "array", "categoryarray": list(reversed(LANES))},
                      xaxis={"range": [since, until]})
    return fig


def incident_timeline(spans: list[tuple[str, datetime, datetime | None]], since: datetime,
                      until: datetime) -> go.Figure:
    """Incidents as bars from start to end (an open one up to ``until``), one row per service."""
    fig = go.Figure()
    for service in sorted({s for s, _, _ in spans}):
        xs: list[datetime | None] = []
        for name, start, end in spans:
            if name == service:
                xs += [start, end or until, None]
        fig.add_trace(go.Scatter(
            x=xs, y=[service if x is not None else None for x in xs], mode="lines+markers",
            name=service, line={"color": "#d32f2f", "width": 10}, connectgaps=False,
            hovertemplate="%{x|%Y-%m-%d %H:%M}<extra>" + service + "</extra>"))
    fig.update_layout(title="Incidents", height=120 + 40 * len(fig.data), showlegend=False,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis={"range": [since, until]})
    return fig
