"""Overview: one screen for a CTO, from the stored weekly scorecard of the period and scope.

Headline, KPI tiles (goal and traffic light, change, 12-period sparkline), what changed, what
needs attention and, for the organisation, the teams: the digits the weekly email showed.
"""

from __future__ import annotations

import streamlit as st

from sloctl.dashboard import data, kpi_view, report_view, view, widgets
from sloctl.dashboard.context import Context, current
from sloctl.report.scorecard import PeriodScorecard

HEADLINE = {True: st.success, False: st.error, None: st.info}


def attention(card: PeriodScorecard) -> None:
    st.subheader("Needs attention")
    at_risk = report_view.attention(card)
    if at_risk.empty:
        st.caption("No SLO breached or at risk in this period.")
    else:
        widgets.table(at_risk, key="attention", formats=report_view.FORMATS)
    longest = card.incidents.longest
    if card.incidents.count:
        text = f"{card.incidents.count} incident(s), {card.incidents.open} open"
        if longest is not None and longest.duration is not None:
            text += f"; longest {longest.incident.service}, {longest.duration / 60:.0f} min"
        st.caption(text + " (Incidents page).")
    for failed in card.failed_deployments:
        st.caption(f"failed deployment {failed.service} {failed.version}: "
                   f"{', '.join(failed.reasons)}")


def page(ctx: Context) -> None:
    st.title("Overview")
    if ctx.period is None:
        widgets.no_scorecard(None, ctx.scope)
        return
    card = data.scorecard(ctx.url, ctx.period, ctx.scope)
    if card is None:
        widgets.no_scorecard(ctx.period, ctx.scope)
        return
    tz = ctx.settings.tzinfo
    st.caption(f"{card.scope.title} · {card.period_label} · measured "
               f"{view.when(card.measured_at, tz)}")
    HEADLINE[card.within_goals](card.headline)
    widgets.tile_rows(kpi_view.tiles(card))
    changed, needs = st.columns(2)
    with changed:
        st.subheader("What changed")
        lines = report_view.changes(card)
        st.markdown("\n".join(f"- {line}" for line in lines) if lines
                    else "Nothing new since the previous period.")
    with needs:
        attention(card)
    if card.teams:
        st.subheader("Teams")
        widgets.table(report_view.teams(card), key="teams", formats=report_view.FORMATS)
    if card.notes:
        st.caption("Notes: " + " · ".join(card.notes))


page(current())
