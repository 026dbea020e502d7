"""DORA: the four keys, recovery time and rework rate of the period's scorecard (the scope the
filters name) with levels and goals; 12-period trends of that scope and per team; and the
rolling figures ``sloctl serve`` computes every 5 minutes."""

from __future__ import annotations

import streamlit as st

from sloctl.dashboard import data, dora_view, report_view, trend_charts, view, widgets
from sloctl.dashboard.context import Context, current
from sloctl.report.scorecard import PeriodScorecard

KPI_TITLES = {"deploys": "Deployments per day per service", "lead_time": "Lead time",
              "change_failure_rate": "Change failure rate", "restore": "Time to restore"}


def period_section(ctx: Context, card: PeriodScorecard) -> None:
    st.caption(f"{card.scope.title} · {card.period_label}; trailing "
               f"{card.dora_trailing_weeks} weeks for the levels. Levels are for trending a "
               "scope against itself, not targets.")
    widgets.table(report_view.dora_lines(card), key="dora_lines")
    st.plotly_chart(trend_charts.kpi_trends(card), key="dora_trends")


def teams_section(ctx: Context, period: str) -> None:
    teams = [s for s in data.report_scopes(ctx.url, period) if s.startswith("team/")]
    if not teams:
        return
    st.subheader("Per team")
    cards = {"organisation": data.scorecard(ctx.url, period, "organisation")}
    cards |= {t.removeprefix("team/"): data.scorecard(ctx.url, period, t) for t in teams}
    found = {name: c for name, c in cards.items() if c is not None}
    key = st.selectbox("Trend of", list(KPI_TITLES), format_func=KPI_TITLES.__getitem__,
                       key="dora_metric")
    st.plotly_chart(trend_charts.team_trends(found, key), key="team_trends")
    widgets.table(dora_view.team_table(found), key="dora_teams")


def live_section(ctx: Context) -> None:
    """The DORA tiles of one scope, from the latest rolling computation of ``sloctl serve``."""
    st.subheader("Rolling, as `sloctl serve` computes it")
    cards = data.dora_scorecards(ctx.url)
    if not cards:
        st.caption(
            "No DORA scorecard stored yet: `sloctl serve` computes one every 5 minutes from "
            "the recorded deployments (`sloctl deploy record` or POST /api/v1/deployments)."
        )
        return
    scopes = dora_view.scopes(cards)
    wanted = dora_view.scope_of(ctx.team, ctx.service, scopes)
    scope = st.selectbox("DORA scope", scopes, index=scopes.index(wanted), key="dora_scope")
    card = next(c for c in cards if c.scope == scope)
    widgets.tile_rows(dora_view.tiles(card), per_row=3)
    st.caption(dora_view.period_caption(card, view.when(card.computed_at,
                                                         ctx.settings.tzinfo)))


def page(ctx: Context) -> None:
    st.title("DORA")
    if ctx.period is None:
        widgets.no_scorecard(None, ctx.scope)
    else:
        card = data.scorecard(ctx.url, ctx.period, ctx.scope)
        if card is None:
            widgets.no_scorecard(ctx.period, ctx.scope)
        else:
            period_section(ctx, card)
        if not ctx.service:
            teams_section(ctx, ctx.period)
    live_section(ctx)


page(current())
