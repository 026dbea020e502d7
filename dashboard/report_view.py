"""Tables of a stored weekly scorecard: SLOs, teams, DORA, incidents, what changed.

No Streamlit here. Numbers stay numbers (sortable), in the unit their column names (``%``,
``min``); unknown values are NaN (shown "unknown"), never 0. Texts that the email writes
(DORA figures, changes) use the report's own formats (``sloctl.report.fmt``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

import pandas as pd

import sloctl.report.fmt as fmt
from sloctl.report.scorecard import PeriodScorecard

CHANGE_ICONS = {"new_breach": ":red[:material/error:]",
                "recovered": ":green[:material/check_circle:]",
                "budget_drop": ":orange[:material/trending_down:]",
                "first_incident": ":red[:material/emergency:]",
                "failed_deployment": ":red[:material/cancel:]"}


def pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def _frame(rows: Sequence[Mapping[str, object]], columns: list[str],
           numeric: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(dict.fromkeys(numeric, "float64"))


SLO_COLUMNS = ["SLO", "Team", "Status", "Attainment %", "Objective %", "Budget spent %",
               "Budget left %", "Burn rate", "Events", "Traffic share %", "Weighted impact %",
               "Attainment change pp", "Reason"]
SLO_NUMERIC = SLO_COLUMNS[3:12]
# the email's precision: attainment to 0.001 pp, objectives to 0.01, shares to 0.1
FORMATS = {"Attainment %": "%.3f", "Objective %": "%.2f", "Budget spent %": "%.1f",
           "Budget left %": "%.1f", "Burn rate": "%.2f", "Events": "localized",
           "Traffic share %": "%.1f", "Weighted impact %": "%.1f",
           "Attainment change pp": "%+.3f", "Combined SLI %": "%.3f",
           "Lowest budget left %": "%.1f", "Duration (min)": "%.0f"}


def slo_lines(card: PeriodScorecard, keep: frozenset[str] | None = None) -> pd.DataFrame:
    """One row per SLO of the period, worst first (the scorecard's order)."""
    rows = [{
        "SLO": s.slo_id, "Team": s.team or "", "Status": s.status.value,
        "Attainment %": pct(s.attainment), "Objective %": s.objective * 100,
        "Budget spent %": pct(s.budget_spent), "Budget left %": pct(s.budget_left),
        "Burn rate": s.burn_rate, "Events": s.events, "Traffic share %": pct(s.traffic_share),
        "Weighted impact %": pct(s.weighted_impact),
        "Attainment change pp": pct(s.attainment_change.delta), "Reason": s.reason,
    } for s in card.slos if keep is None or s.service in keep]
    return _frame(rows, SLO_COLUMNS, SLO_NUMERIC)


def attention(card: PeriodScorecard) -> pd.DataFrame:
    """The breached and at-risk SLOs (status BREACHED or WARNING), worst first."""
    frame = slo_lines(card)
    chosen = frame[frame["Status"].isin(["BREACHED", "WARNING"])]
    return chosen[["SLO", "Status", "Attainment %", "Objective %", "Budget left %", "Reason"]]


TEAM_COLUMNS = ["Team", "Services", "SLOs met", "SLOs", "Combined SLI %", "Budget left %",
                "Worst SLO", "Worst status", "Lowest budget left %", "DORA level"]


def teams(card: PeriodScorecard) -> pd.DataFrame:
    """The organisation's teams: SLOs met of total, combined SLI, worst SLO, DORA level."""
    rows = [{
        "Team": t.team, "Services": len(t.services), "SLOs met": t.combined.met,
        "SLOs": t.combined.slos, "Combined SLI %": pct(t.combined.sli),
        "Budget left %": pct(t.combined.budget_left), "Worst SLO": t.worst or "",
        "Worst status": t.worst_status.value if t.worst_status else "",
        "Lowest budget left %": pct(t.lowest_budget_left), "DORA level": t.dora_level or "",
    } for t in card.teams]
    return _frame(rows, TEAM_COLUMNS, ["Combined SLI %", "Budget left %",
                                       "Lowest budget left %"])


DORA_COLUMNS = ["Metric", "This period", "Change", "Trailing", "Level", "Goal", "Goal met",
                "n (period)", "n (trailing)"]


def dora_lines(card: PeriodScorecard) -> pd.DataFrame:
    """The four keys, recovery time and rework rate: the period, its change, the trailing
    weeks with their level (report year), the goal."""
    rows = []
    for d in card.dora:
        level = f"{d.level} ({d.report_year})" if d.level else f"no level ({d.report_year})"
        rows.append({
            "Metric": d.title, "This period": fmt.value(d.unit, d.week),
            "Change": fmt.delta(d.unit, d.week_change),
            "Trailing": fmt.value(d.unit, d.trailing), "Level": level,
            "Goal": d.goal, "Goal met": {True: "met", False: "missed", None: ""}[d.goal_met],
            "n (period)": d.week_n, "n (trailing)": d.trailing_n,
        })
    return pd.DataFrame(rows, columns=DORA_COLUMNS)


INCIDENT_COLUMNS = ["Incident", "Service", "Start", "End", "Duration (min)", "Severity",
                    "Deployment", "Attribution"]


def incidents(card: PeriodScorecard, tz: tzinfo) -> pd.DataFrame:
    """The period's incidents, oldest first, with their duration and attributed deployment."""
    rows = [{
        "Incident": ln.incident.id, "Service": ln.incident.service,
        "Start": ln.incident.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "End": "open" if ln.incident.end is None
        else ln.incident.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "Duration (min)": None if ln.duration is None else ln.duration / 60,
        "Severity": ln.incident.severity, "Deployment": ln.incident.deployment or "",
        "Attribution": ln.incident.attribution,
    } for ln in card.incidents.lines]
    return _frame(rows, INCIDENT_COLUMNS, ["Duration (min)"])


def changes(card: PeriodScorecard) -> list[str]:
    """"What changed", one Markdown line each: an icon beside the email's words."""
    return [f"{CHANGE_ICONS.get(c.kind, '')} {c.text}".strip() for c in card.changes]

