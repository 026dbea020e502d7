"""What the SLOs and Services pages show of the last evaluation: tiles, the SLO table, unknown
notes.

No Streamlit here, so the content can be checked without a page. Unknown values stay NaN or
"unknown" (never 0) and their reasons are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

import pandas as pd

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import SignalValue
from sloctl.core.slo import SLOStatus

TABLE_WINDOWS: dict[int, str] = {
    3600: "Burn 1h",
    21600: "Burn 6h",
    86400: "Burn 1d",
    259200: "Burn 3d",
}
ALERT_ORDER = (AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED, AlertState.INACTIVE)


@dataclass(frozen=True)
class Tile:
    """One ``st.metric`` tile."""

    label: str
    value: str
    delta: str | None = None
    color: str = "off"  # a st.metric delta_color
    help: str | None = None
    note: str | None = None  # beside the delta, small (a goal)


def when(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def alert_state(ev: Evaluation, slo_id: str) -> AlertState:
    """The most urgent state of the SLO's alerts (firing > pending > resolved > inactive)."""
    states = {a.state for a in ev.alerts if a.slo_id == slo_id}
    return next((s for s in ALERT_ORDER if s in states), AlertState.INACTIVE)


def tiles(ev: Evaluation, tz: tzinfo) -> list[Tile]:
    """Header KPIs: SLOs meeting objective, lowest budget, alerts firing, last evaluation."""
    meeting = sum(1 for s in ev.slos if s.breaching is False)
    unknown = [s.slo_id for s in ev.slos if s.breaching is None]
    blind = [s.slo_id for s in ev.slos if s.no_data]
    known_budgets = [s for s in ev.slos if s.budget_remaining is not None]
    lowest = min(known_budgets, key=lambda s: s.budget_remaining or 0.0, default=None)
    firing = sum(1 for a in ev.alerts if a.state is AlertState.FIRING)
    pending = sum(1 for a in ev.alerts if a.state is AlertState.PENDING)
    problems = len(ev.problems)
    return [
        Tile(
            "SLOs meeting objective",
            f"{meeting}/{len(ev.slos)}",
            (f"{len(blind)} no data" if blind else f"{len(unknown)} unknown") if unknown else None,
            "red" if blind else "gray",
            "\n".join(
                [*(["no data (no series match): " + ", ".join(blind)] if blind else []),
                 *(["unknown: " + ", ".join(unknown)] if unknown else [])]
            ) or None,
        ),
        Tile(
            "Lowest budget remaining",
            "unknown" if lowest is None else f"{(lowest.budget_remaining or 0.0) * 100:.1f}%",
            None if lowest is None else lowest.slo_id,
            "off" if lowest is None else budget_color(lowest.budget_remaining),
            "no SLO has a known budget" if lowest is None else None,
        ),
        Tile(
            "Alerts firing",
            str(firing),
            f"{pending} pending",
            "red" if firing else "gray",
        ),
        Tile(
            f"Last evaluation ({ev.at.astimezone(tz).tzname()})",
            ev.at.astimezone(tz).strftime("%b %d %H:%M"),
            "complete" if ev.complete else f"incomplete: {problems} problem(s)",
            "green" if ev.complete else "orange",
            "\n".join(ev.problems) or None,
        ),
    ]


def budget_color(remaining: float | None) -> str:
    if remaining is None:
        return "gray"
    return "red" if remaining <= 0 else "orange" if remaining < 0.25 else "green"


def _pct(x: float | None) -> float | None:
    return None if x is None else x * 100


def slo_frame(ev: Evaluation) -> pd.DataFrame:
    """One row per SLO; percentages in %, NaN where unknown."""
    rows = []
    for s in ev.slos:
        row: dict[str, object] = {
            "Service": s.service,
            "SLO": s.name,
            "Objective %": s.objective * 100,
            "SLI %": _pct(s.sli),
            "Objective met": None if s.breaching is None else ("no" if s.breaching else "yes"),
            "Data": "no data" if s.no_data else "ok",
            "Budget left %": _pct(s.budget_remaining),
            "Budget left (min)": s.budget_remaining_minutes,
        }
        for seconds, column in TABLE_WINDOWS.items():
            w = s.window(seconds)
            row[column] = None if w is None else w.burn_rate
        row["Alert"] = alert_state(ev, s.slo_id).value
        rows.append(row)
    columns = ["Service", "SLO", "Objective %", "SLI %", "Objective met", "Budget left %",
               "Budget left (min)", *TABLE_WINDOWS.values(), "Alert", "Data"]
    frame = pd.DataFrame(rows, columns=columns)
    numeric = [c for c in columns[2:-2] if c != "Objective met"]
    return frame.astype(dict.fromkeys(numeric, "float64"))


def slo_notes(slo: SLOStatus) -> list[str]:
    """Why values of one SLO are unknown: the SLO's reason and its windows' reasons."""
    reasons = [slo.reason] if slo.reason else []
    reasons += [w.reason for w in slo.windows if w.reason and w.reason not in reasons]
    return reasons


def unknown_notes(ev: Evaluation) -> list[str]:
    """One line per SLO with unknown values: ``service/name: reason``."""
    return [f"{s.slo_id}: {'; '.join(slo_notes(s))}" for s in ev.slos if slo_notes(s)]


def signal_notes(signals: tuple[SignalValue, ...], service: str) -> list[str]:
    """One line per unknown golden signal of ``service``: ``signal: reason``."""
    return [
        f"{sv.signal.value}: {sv.reason or 'no data'}"
        for sv in signals
        if sv.service == service and sv.value is None
    ]


def services(ev: Evaluation) -> list[str]:
    """Services with golden signals in the evaluation, sorted."""
    return sorted({sv.service for sv in ev.signals})


def lowest_budget_first(ev: Evaluation) -> list[str]:
    """SLO ids, the one with the least budget left first (unknown budgets last)."""
    order = sorted(
        ev.slos,
        key=lambda s: (s.budget_remaining is None, s.budget_remaining or 0.0, s.slo_id),
    )
    return [s.slo_id for s in order]


def scoped(ev: Evaluation, keep: frozenset[str] | None) -> Evaluation:
    """The evaluation's SLOs, signals and alerts of the services in ``keep`` (None: all)."""
    if keep is None:
        return ev
    return replace(ev, slos=tuple(s for s in ev.slos if s.service in keep),
                   signals=tuple(s for s in ev.signals if s.service in keep),
                   alerts=tuple(a for a in ev.alerts if a.service in keep))
