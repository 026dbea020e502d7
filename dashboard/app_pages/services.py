"""Services: a sortable table of every service, then the chosen one (sidebar, a table row or
the URL's ``service``): golden signals, SLOs and their burn-down, and its deployments, canary
judgements and incidents on one timeline."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import streamlit as st

from sloctl.core.evaluation import Evaluation
from sloctl.dashboard import charts, data, incident_view, service_view, table, view, widgets
from sloctl.dashboard.canary_timeline import render_rows
from sloctl.dashboard.context import Context, current

TABLE_KEY = "services_table"


def pick_row(names: list[str]) -> None:
    """A row picked in the table becomes the chosen service (before the sidebar is drawn)."""
    rows = st.session_state[TABLE_KEY].selection.rows
    if rows:
        st.session_state["service"] = names[rows[0]]


def team_of(ctx: Context) -> dict[str, str]:
    return {s: team for team, members in ctx.settings.dora.teams.items() for s in members}


def overview(ctx: Context, ev: Evaluation | None, services: list[str]) -> None:
    card = data.scorecard(ctx.url, ctx.period, "organisation") if ctx.period else None
    frame = service_view.services_frame(services, ev, card, team_of(ctx))
    config = {c: st.column_config.NumberColumn(format=f)
              for c, f in service_view.FORMATS.items()}
    st.dataframe(frame, hide_index=True, placeholder="unknown", key=TABLE_KEY,
                 column_config=config, on_select=partial(pick_row, services),
                 selection_mode="single-row")
    if card is not None:
        st.caption(f"Period columns: {card.period_label}. Pick a row (or a service in the "
                   "sidebar) for its signals, SLOs and timeline.")


def timeline(ctx: Context, ev: Evaluation, service: str, span: timedelta) -> None:
    st.subheader("Deployments, canary judgements and incidents")
    since = ev.at - span
    rows = data.timeline(ctx.url, service, since, ev.at)
    alerts = data.received_alerts(ctx.url, since, ev.at, service)
    incidents = incident_view.live_incidents(alerts, ctx.settings.incidents, ev.at)
    st.plotly_chart(charts.event_timeline(rows, incidents, since, ev.at, service),
                    key="event_timeline")
    merged = sorted([*rows, *incident_view.timeline_rows(incidents)],
                    key=lambda r: (r.at, r.kind), reverse=True)
    render_rows(merged, ctx.settings.tzinfo)


def detail(ctx: Context, ev: Evaluation, service: str) -> None:
    st.header(service)
    widgets.tile_rows(service_view.signal_tiles(ev, service, ctx.settings.default_alerts),
                      per_row=5)
    span = widgets.history_range()
    history = data.signal_history(ctx.url, service, ev.at - span, ev.at, data.HISTORY_POINTS)
    st.plotly_chart(charts.golden_signals(history, service), key="golden_signals")
    mine = view.scoped(ev, frozenset({service}))
    if mine.slos:
        st.subheader("SLOs")
        table.slo_table(view.slo_frame(mine), key="service_slos")
        histories = {s.slo_id: data.slo_history(ctx.url, s.slo_id, ev.at - span, ev.at,
                                                data.HISTORY_POINTS) for s in mine.slos}
        st.plotly_chart(charts.burn_downs(histories, service), key="burn_downs")
    else:
        st.caption(f"{service} has no SLO in the last evaluation.")
    timeline(ctx, ev, service, span)


def page(ctx: Context) -> None:
    st.title("Services")
    ev = data.latest_evaluation(ctx.url)
    keep = ctx.members()
    known = data.services(ctx.url)
    services = [s for s in known if keep is None or s in keep] if not ctx.service else known
    if not services:
        st.caption("No service in the store yet.")
        return
    overview(ctx, ev, services)
    if ctx.service and ev is not None:
        detail(ctx, ev, ctx.service)


page(current())
