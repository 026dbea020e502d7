"""What the Services page shows: one row per service, and one service's signal tiles.

No Streamlit here. "Now" columns come from the last evaluation, "week" columns from the weekly
scorecard of the chosen period (its golden signals and the default alert rules' goals).
Unknown values are NaN ("unknown"), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

import sloctl.report.fmt as fmt
from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.dashboard.kpi_view import LIGHTS
from sloctl.dashboard.view import Tile
from sloctl.report.scorecard import PeriodScorecard, ServiceLine
from sloctl.settings import DefaultAlerts

COLUMNS = ["Service", "Team", "Status (period)", "SLOs", "Breaching now", "Alerts firing",
           "Traffic (req/s)", "Errors %", "p95 (ms)", "p99 (ms)", "Saturation",
           "Errors % (period)", "p95 ms (period)", "Alert rules (period)"]
NUMERIC = COLUMNS[6:13]
FORMATS = {"Traffic (req/s)": "%.2f", "Errors %": "%.2f", "p95 (ms)": "%.0f",
           "p99 (ms)": "%.0f", "Saturation": "%.2f", "Errors % (period)": "%.2f",
           "p95 ms (period)": "%.0f"}
SCALE = {Signal.ERROR_RATIO: 100.0, Signal.LATENCY_P95: 1000.0, Signal.LATENCY_P99: 1000.0}


def _week(line: ServiceLine | None, signal: Signal) -> float | None:
    found = next((s for s in line.signals if s.signal == signal.value), None) if line else None
    if found is None or found.value is None:
        return None
    return found.value * SCALE.get(signal, 1.0)


def _inside(line: ServiceLine | None) -> str:
    if line is None:
        return ""
    flags = [s.goal_met for s in line.signals if s.goal]
    if any(f is False for f in flags):
        return "outside"
    return "unknown" if not flags or any(f is None for f in flags) else "inside"


def services_frame(services: Sequence[str], ev: Evaluation | None, card: PeriodScorecard | None,
                   teams: Mapping[str, str]) -> pd.DataFrame:
    """One row per service, in ``services`` order."""
    now = {(s.service, s.signal): s.value for s in (ev.signals if ev else ())}
    lines = {s.service: s for s in (card.services if card else ())}
    rows = []
    for service in services:
        line = lines.get(service)
        slos = [s for s in (ev.slos if ev else ()) if s.service == service]
        firing = [a for a in (ev.alerts if ev else ())
                  if a.service == service and a.state is AlertState.FIRING]
        row: dict[str, object] = {
            "Service": service,
            "Team": (line.team if line and line.team else teams.get(service, "")),
            "Status (period)": line.worst_status.value if line and line.worst_status else "",
            "SLOs": len(slos),
            "Breaching now": sum(1 for s in slos if s.breaching),
            "Alerts firing": len(firing),
        }
        for signal, column in ((Signal.TRAFFIC, "Traffic (req/s)"),
                               (Signal.ERROR_RATIO, "Errors %"), (Signal.LATENCY_P95, "p95 (ms)"),
                               (Signal.LATENCY_P99, "p99 (ms)"), (Signal.SATURATION, "Saturation")):
            value = now.get((service, signal))
            row[column] = None if value is None else value * SCALE.get(signal, 1.0)
        row["Errors % (period)"] = _week(line, Signal.ERROR_RATIO)
        row["p95 ms (period)"] = _week(line, Signal.LATENCY_P95)
        row["Alert rules (period)"] = _inside(line)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype(dict.fromkeys(NUMERIC, "float64"))


UNITS = {Signal.TRAFFIC: "req_s", Signal.ERROR_RATIO: "ratio", Signal.LATENCY_P50: "latency",
         Signal.LATENCY_P95: "latency", Signal.LATENCY_P99: "latency", Signal.SATURATION: ""}


def signal_tiles(ev: Evaluation, service: str, alerts: DefaultAlerts) -> list[Tile]:
    """The service's golden signals now; errors and p95 against the default alert rules."""
    values = {s.signal: s for s in ev.signals if s.service == service}
    goals = {Signal.ERROR_RATIO: alerts.error_ratio.threshold,
             Signal.LATENCY_P95: alerts.latency_p95.threshold}
    tiles = []
    for signal in (Signal.TRAFFIC, Signal.ERROR_RATIO, Signal.LATENCY_P95, Signal.LATENCY_P99,
                   Signal.SATURATION):
        found = values.get(signal)
        value = found.value if found else None
        title = fmt.SIGNAL_TITLES[signal.value]
        goal = goals.get(signal)
        if goal is None:
            tiles.append(Tile(title, fmt.value(UNITS[signal], value),
                              help=(found.reason if found and found.reason else None)))
            continue
        met = None if value is None else value <= goal
        goal_text = fmt.value(UNITS[signal], goal)
        tiles.append(Tile(
            f"{LIGHTS[met]} {title}",
            fmt.value(UNITS[signal], value),
            "unknown" if met is None else ("inside the rule" if met else "above the rule"),
            "gray" if met is None else ("green" if met else "red"),
            found.reason if found and found.reason else None,
            f"alert above {goal_text}",
        ))
    return tiles
