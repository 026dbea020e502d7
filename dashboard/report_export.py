"""A stored weekly scorecard as files to download: one HTML page and the SLO lines as CSV.

No Streamlit here. The HTML is a self-contained page (inline styles, no script, no remote
resource) with the email's figures written by the report's own formats (``sloctl.report.fmt``):
headline, KPIs with goal and change, what changed, SLOs, DORA, incidents, notes. The CSV holds
one row per SLO with the stored numbers (percent columns in %), unknown cells empty.
"""

from __future__ import annotations

from datetime import tzinfo
from html import escape

import pandas as pd

import sloctl.report.fmt as fmt
from sloctl.dashboard import report_view
from sloctl.dashboard.kpi_view import GOAL_WORDS, kpi_delta, kpi_value
from sloctl.report.scorecard import PeriodScorecard

STYLE = ("font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#24292f;"
         "background-color:#ffffff;max-width:960px;margin:16px auto;")
TABLE = "border-collapse:collapse;width:100%;margin:8px 0 16px 0;"
CELL = "border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top;"


def file_stem(card: PeriodScorecard) -> str:
    return f"sloctl-scorecard-{card.period.key}-{card.scope.key.replace('/', '-')}"


def slo_csv(card: PeriodScorecard) -> str:
    """One row per SLO of the period (the scorecard's order, worst first)."""
    return str(report_view.slo_lines(card).to_csv(index=False))


def kpi_frame(card: PeriodScorecard) -> pd.DataFrame:
    """The KPIs as the email writes them: value, goal and verdict, change."""
    return pd.DataFrame([{
        "KPI": k.title, "Value": kpi_value(k), "Goal": k.goal,
        "Goal met": GOAL_WORDS[k.goal_met], "Change": kpi_delta(k),
    } for k in card.kpis], columns=["KPI", "Value", "Goal", "Goal met", "Change"])


def slo_frame(card: PeriodScorecard) -> pd.DataFrame:
    """The SLO lines as the email writes them."""
    return pd.DataFrame([{
        "SLO": s.slo_id, "Status": s.status.value, "Attainment": fmt.attainment(s.attainment),
        "Objective": fmt.percent(s.objective), "Budget left": fmt.percent(s.budget_left, 1),
        "Change": fmt.delta("sli", s.attainment_change), "Reason": s.reason,
    } for s in card.slos], columns=["SLO", "Status", "Attainment", "Objective", "Budget left",
                                    "Change", "Reason"])


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f'<th style="{CELL}">{escape(str(c))}</th>' for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL}">{escape("" if pd.isna(v) else str(v))}</td>'
                         for v in row) + "</tr>"
        for row in frame.itertuples(index=False))
    return f'<table style="{TABLE}"><tr>{head}</tr>{body}</table>'


def html_document(card: PeriodScorecard, tz: tzinfo) -> str:
    """The scorecard as one HTML page."""
    title = f"{card.scope.title} scorecard {card.period.key}"
    changes = "".join(f"<li>{escape(c.text)}</li>" for c in card.changes)
    incidents = report_view.incidents(card, tz)
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(card.period_label)} · measured "
        f"{escape(card.measured_at.astimezone(tz).strftime('%Y-%m-%d %H:%M %Z'))}</p>",
        f"<p><strong>{escape(card.headline)}</strong></p>",
        "<h2>KPIs</h2>", _table(kpi_frame(card)),
        "<h2>What changed</h2>",
        f"<ul>{changes}</ul>" if changes else "<p>Nothing new since the previous period.</p>",
        "<h2>SLOs</h2>", _table(slo_frame(card)),
        "<h2>DORA</h2>", _table(report_view.dora_lines(card)),
        "<h2>Incidents</h2>",
        _table(incidents) if not incidents.empty else "<p>No incident in this period.</p>",
    ]
    if card.notes:
        parts.append("<p><small>" + "<br>".join(escape(n) for n in card.notes) + "</small></p>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head>"
            f'<body style="{STYLE}">{"".join(parts)}</body></html>\n')
