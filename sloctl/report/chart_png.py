"""The report's charts as PNG images, drawn by matplotlib's Agg backend (no browser, no display).

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot global state, safe in
the scheduler's thread), on an opaque white background (dark-mode clients that invert colours
keep the chart readable), at twice the CSS size for sharp screens. The same definition gives
the same bytes (no timestamp in the PNG).
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from sloctl.report.charts import Bars, Chart, Sparkline

if TYPE_CHECKING:  # matplotlib is imported on first use: `sloctl` starts without it
    from matplotlib.figure import Figure

COLOURS = {"ok": "#1a7f37", "warning": "#9a6700", "breached": "#cf222e", "neutral": "#57606a"}
INK = "#24292f"
GRID = "#d0d7de"
SCALE = 2  # drawn at 2x the CSS pixels
DPI = 100


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = _sparkline(chart) if isinstance(chart, Sparkline) else _bars(chart)
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()


def _figure(width: int, height: int) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width * SCALE / DPI, height * SCALE / DPI), dpi=DPI,
                  facecolor="white")


def _sparkline(chart: Sparkline) -> Figure:
    figure = _figure(chart.width, chart.height)
    ax = figure.add_axes((0.02, 0.1, 0.96, 0.8))
    ax.set_axis_off()
    points = [(i, v) for i, v in enumerate(chart.values) if v is not None and math.isfinite(v)]
    ax.set_xlim(-0.5, max(len(chart.values) - 0.5, 0.5))
    if chart.goal is not None:
        ax.axhline(chart.goal, color=GRID, linewidth=2, linestyle=(0, (3, 2)))
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, color=COLOURS["neutral"], linewidth=2.5, solid_capstyle="round")
        ax.plot([xs[-1]], [ys[-1]], marker="o", markersize=7,
                color=COLOURS.get(chart.role, INK))
        low, high = min(ys), max(ys)
        if chart.goal is not None:
            low, high = min(low, chart.goal), max(high, chart.goal)
        pad = (high - low) * 0.15 or abs(high) * 0.001 or 1.0
        ax.set_ylim(low - pad, high + pad)
    return figure


def _bars(chart: Bars) -> Figure:
    height = chart.drawn_height
    figure = _figure(chart.width, height)
    left = 0.42
    ax = figure.add_axes((left, 16 / height, 0.98 - left, 1 - 24 / height))
    n = len(chart.values)
    ys = list(range(n))[::-1]
    ax.barh(ys, [v * 100 for v in chart.values], height=0.62,
            color=[COLOURS.get(r, INK) for r in chart.roles])
    ax.set_yticks(ys, [_short(label) for label in chart.labels], fontsize=18, color=INK)
    ax.set_xlim(min(-5.0, min((v * 100 for v in chart.values), default=0) - 5), 100)
    ax.set_ylim(-0.6, n - 0.4)
    ax.axvline(0, color=INK, linewidth=1.5)
    if chart.threshold is not None:
        ax.axvline(chart.threshold * 100, color=COLOURS["warning"], linewidth=2,
                   linestyle=(0, (4, 3)))
    for y, v in zip(ys, chart.values, strict=True):
        ax.text(max(v * 100, 0) + 1.5, y, f"{v * 100:.1f} %", va="center", fontsize=16,
                color=INK)
    ax.tick_params(axis="x", labelsize=14, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color=GRID, linewidth=1)
    ax.set_axisbelow(True)
    return figure


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
