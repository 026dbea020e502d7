"""Reports: the stored weekly scorecards, one scope's email preview (its figures and the
email's own chart definitions), downloads as HTML and CSV, and the emails' delivery state."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sloctl.dashboard import data, filters, report_export, trend_charts, view, widgets
from sloctl.dashboard.context import Context, current
from sloctl.report.charts import Bars, Sparkline, email_charts
from sloctl.report.scorecard import PeriodScorecard

PREVIEW_SLOS = 15  # the email's SLO table shows the 15 worst


def periods_table(ctx: Context) -> None:
    tz = ctx.settings.tzinfo
    rows = []
    for key, start, end, measured in data.report_periods(ctx.url):
        sends = data.send_records(ctx.url, key)
        states = sorted({r.state.value for r in sends})
        rows.append({"Period": key, "From": view.when(start, tz), "To": view.when(end, tz),
                     "Measured": view.when(measured, tz), "Emails": len(sends),
                     "Delivery": ", ".join(states)})
    widgets.table(pd.DataFrame(rows), key="periods")


def preview(ctx: Context, card: PeriodScorecard) -> None:
    """What the email shows, in the app: the same figures and chart definitions."""
    st.markdown(f"**{card.scope.title} scorecard {card.period.key}** · {card.period_label}")
    st.markdown(card.headline)
    st.dataframe(report_export.kpi_frame(card), hide_index=True, key="preview_kpis")
    charts = email_charts(card, ctx.settings.report.warning_budget_left)
    sparks = [c for c in charts if isinstance(c, Sparkline)]
    for start in range(0, len(sparks), 3):
        for column, chart in zip(st.columns(3), sparks[start : start + 3], strict=False):
            column.plotly_chart(trend_charts.sparkline(chart), key=f"spark_{chart.cid}",
                                config={"displayModeBar": False})
    for bars in (c for c in charts if isinstance(c, Bars)):
        st.plotly_chart(trend_charts.bars(bars), key="budget_bars")
    st.markdown("**SLOs** (worst first)")
    st.dataframe(report_export.slo_frame(card).head(PREVIEW_SLOS), hide_index=True,
                 key="preview_slos")
    if len(card.slos) > PREVIEW_SLOS:
        st.caption(f"and {len(card.slos) - PREVIEW_SLOS} more on the SLOs page")


def sends_table(ctx: Context, period: str) -> None:
    tz = ctx.settings.tzinfo
    rows = [{"Scope": r.scope, "To": ", ".join(r.recipients), "State": r.state.value,
             "Attempts": r.attempts,
             "Sent": "" if r.sent_at is None else view.when(r.sent_at, tz),
             "Last error": r.last_error or ""} for r in data.send_records(ctx.url, period)]
    if rows:
        widgets.table(pd.DataFrame(rows), key="sends")
    else:
        st.caption("No email recorded for this period (report.organisation, report.teams).")


def page(ctx: Context) -> None:
    st.title("Reports")
    if ctx.period is None:
        widgets.no_scorecard(None, ctx.scope)
        return
    periods_table(ctx)
    scopes = data.report_scopes(ctx.url, ctx.period)
    if not scopes:
        widgets.no_scorecard(ctx.period, ctx.scope)
        return
    default = ctx.scope if ctx.scope in scopes else scopes[0]
    if "organisation" in scopes and ctx.scope not in scopes:
        default = "organisation"
    scope = filters.choose_on_page("Scorecard of", "scope", scopes, default)
    card = data.scorecard(ctx.url, ctx.period, scope)
    if card is None:
        widgets.no_scorecard(ctx.period, scope)
        return
    stem = report_export.file_stem(card)
    html, csv = st.columns(2)
    html.download_button("Download HTML", report_export.html_document(card, ctx.settings.tzinfo),
                         file_name=f"{stem}.html", mime="text/html", key="download_html",
                         on_click="ignore")
    csv.download_button("Download CSV (SLOs)", report_export.slo_csv(card),
                        file_name=f"{stem}.csv", mime="text/csv", key="download_csv",
                        on_click="ignore")
    st.subheader("Email preview")
    with st.container(border=True):
        preview(ctx, card)
    st.subheader(f"Emails of {ctx.period}")
    sends_table(ctx, ctx.period)


page(current())
