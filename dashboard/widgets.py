"""Streamlit pieces several pages share: rows of metric tiles, tables with unknown shown as
"unknown", and the "nothing stored yet" notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import pandas as pd
import streamlit as st

from sloctl.dashboard.kpi_view import KpiTile
from sloctl.dashboard.view import Tile

RANGES = {"24 hours": timedelta(days=1), "7 days": timedelta(days=7), "30 days": timedelta(days=30),
          "90 days": timedelta(days=90), "400 days": timedelta(days=400)}  # hourly, daily tiers
DEFAULT_RANGE = "30 days"
NO_REPORT = (
    "No weekly scorecard is stored yet. `sloctl serve` measures and stores last week's every "
    "Monday 08:00 (report.schedule); `sloctl report weekly` does it now."
)


def tile_rows(tiles: Sequence[Tile | KpiTile], per_row: int = 4) -> None:
    """Metric tiles, ``per_row`` to a row; a KpiTile's trend as the tile's sparkline."""
    for start in range(0, len(tiles), per_row):
        row = tiles[start : start + per_row]
        for column, tile in zip(st.columns(per_row), row, strict=False):
            trend = tile.trend if isinstance(tile, KpiTile) and len(tile.trend) > 1 else None
            column.metric(
                tile.label,
                tile.value,
                delta=tile.delta,
                delta_color=tile.color,  # type: ignore[arg-type]
                delta_arrow="off",
                help=tile.help,
                border=True,
                chart_data=list(trend) if trend else None,
                delta_description=tile.note,
            )


def table(frame: pd.DataFrame, key: str | None = None,
          formats: Mapping[str, str] | None = None) -> None:
    """A sortable table; unknown (NaN) cells read "unknown"; ``formats``: column -> printf
    format of its numbers (the number itself stays, for sorting)."""
    config = {column: st.column_config.NumberColumn(format=f)
              for column, f in (formats or {}).items() if column in frame.columns}
    st.dataframe(frame, hide_index=True, placeholder="unknown", key=key,
                 column_config=config or None)


def no_scorecard(period: str | None, scope: str) -> None:
    """Why there is no stored scorecard to show."""
    if period is None:
        st.info(NO_REPORT)
    else:
        st.info(f"No scorecard of {scope} is stored for {period}: a team or service without "
                "SLOs in that period has none. Pick another scope in the sidebar.")


def history_range() -> timedelta:
    """How far back the history charts go (raw, then hourly and daily roll-ups)."""
    label = st.selectbox("History range", list(RANGES), index=list(RANGES).index(DEFAULT_RANGE),
                         key="range")
    return RANGES[label]
