"""Colours and number formats of the SLO table (a pandas Styler that st.dataframe renders)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from dashboard.view import TABLE_WINDOWS

RED, ORANGE, GREEN, GREY = "#d32f2f", "#ef6c00", "#2e7d32", "#757575"
ALERT_COLOURS = {"firing": RED, "pending": ORANGE, "resolved": "#1565c0", "inactive": GREEN}
PAGE_BURN = 14.4  # fast-burn page factor of the SRE workbook


def _css(colour: str, bold: bool = False) -> str:
    return f"color: {colour};" + (" font-weight: 700;" if bold else "")


def _is_unknown(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def budget_css(value: object) -> str:
    if _is_unknown(value):
        return _css(GREY)
    assert isinstance(value, float)
    return _css(RED, bold=True) if value <= 0 else _css(ORANGE if value < 25 else GREEN)


def burn_css(value: object) -> str:
    if _is_unknown(value):
        return _css(GREY)
    assert isinstance(value, float)
    return _css(RED, bold=True) if value > PAGE_BURN else _css(ORANGE if value > 1 else GREEN)


def alert_css(value: object) -> str:
    colour = ALERT_COLOURS.get(str(value), GREY)
    return _css(colour, bold=value == "firing")


def sli_css(row: pd.Series) -> list[str]:
    """SLI red when below the objective, green when at or above it, grey when unknown."""
    sli, objective = row["SLI %"], row["Objective %"]
    colour = GREY if _is_unknown(sli) else RED if sli < objective else GREEN
    return ["", _css(colour)]


def objective_text(value: object) -> str:
    """99.9 -> '99.9%', 99.0 -> '99%', 99.95 -> '99.95%'."""
    assert isinstance(value, float)
    return f"{value:.4f}".rstrip("0").rstrip(".") + "%"


def styled(frame: pd.DataFrame) -> Styler:
    """Formats (unknown -> "unknown") and colours of the SLO table."""
    burns: list[Hashable] = list(TABLE_WINDOWS.values())
    formats: dict[Any, str | Callable[[object], str] | None] = {
        "Objective %": objective_text,
        "SLI %": "{:.3f}%",
        "Budget left %": "{:.1f}%",
        "Budget left (min)": "{:,.0f}",
        **{burn: "{:.2f}" for burn in burns},
    }
    return (
        frame.style.format(formats, na_rep="unknown")
        .map(budget_css, subset=["Budget left %", "Budget left (min)"])
        .map(burn_css, subset=burns)
        .map(alert_css, subset=["Alert"])
        .apply(sli_css, axis=1, subset=["Objective %", "SLI %"])
    )
