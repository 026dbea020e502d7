"""Plotly figures: the error-budget burn-down of one SLO and the golden signals of one service.

Unknown points are NaN and appear as gaps in the lines, never as zeros.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
