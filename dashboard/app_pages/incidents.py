"""Incidents: the period's incidents from its weekly scorecard (time to restore against the
goal, attribution to a deployment) on a timeline, each with its evidence: the alerts that
fired, exemplar traces where stored, and the command for its logs. Without a stored
scorecard: the incidents of the alert log over the last 7 days, as ``sloctl incidents``."""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

import sloctl.report.fmt as fmt
from sloctl.dashboard import charts, data, incident_view, report_view, view, widgets
from sloctl.dashboard.context import Context, current
from sloctl.report.scorecard import PeriodScorecard

LIVE_SPAN = timedelta(days=7)


def show_evidence(ctx: Context, service: str, start: datetime, end: datetime | None,
                  until: datetime) -> None:
    tz = ctx.settings.tzinfo
    alerts = data.received_alerts(ctx.url, start - timedelta(minutes=5), until, service)
    findings = data.trace_findings(ctx.url, (end or until) + timedelta(hours=1))
    found = incident_view.evidence(service, start, end, alerts, findings, tz)
    if found.alerts:
        st.markdown("**Alerts**\n" + "\n".join(
            f"- {a.alertname} ({a.severity or 'no severity'}) "
            f"{view.when(a.starts_at, tz)} – "
            f"{'firing' if a.ends_at is None else view.when(a.ends_at, tz)}"
            + (f": {a.annotations['summary']}" if a.annotations.get("summary") else "")
            for a in found.alerts))
    else:
        st.caption("No alert of this service in the stored alert log.")
    if found.traces:
        st.markdown("**Traces** (exemplars)\n" + "\n".join(
            f"- [{t.trace_id[:16]}]({t.url}) {t.root_service} {t.root_operation}, "
            f"{t.duration_seconds:.2f} s, {t.errors} error span(s)" for t in found.traces))
    else:
        st.caption("No exemplar trace stored for this service (jaeger.enabled).")
    st.markdown(f"**Logs** (not stored; Loki): `{found.logs_command}`")


def period_section(ctx: Context, card: PeriodScorecard) -> None:
    inc = card.incidents
    met = {True: "met", False: "missed", None: "unknown"}[inc.goal_met]
    st.caption(f"{card.scope.title} · {card.period_label}")
    widgets.tile_rows([
        view.Tile("Incidents", str(inc.count), f"{inc.open} open", "red" if inc.open else "gray"),
        view.Tile(f"Time to restore (median) · goal {inc.goal}", fmt.duration(inc.median_restore),
                  f"goal {met}", {"met": "green", "missed": "red"}.get(met, "gray"),
                  f"{inc.restored} restored in the period"),
        view.Tile("Longest", "n/a" if inc.longest is None or inc.longest.duration is None
                  else fmt.duration(inc.longest.duration),
                  None if inc.longest is None else inc.longest.incident.service),
    ], per_row=3)
    if not inc.lines:
        st.caption("No incident in this period.")
        return
    st.plotly_chart(charts.incident_timeline(
        [(ln.incident.service, ln.incident.start, ln.incident.end) for ln in inc.lines],
        card.period.start, card.period.end), key="incident_timeline")
    widgets.table(report_view.incidents(card, ctx.settings.tzinfo), key="incidents",
                  formats=report_view.FORMATS)
    for ln in inc.lines:
        i = ln.incident
        with st.expander(f"{i.id}: {i.attribution}"
                         + (f" to {i.deployment}" if i.deployment else "")):
            show_evidence(ctx, i.service, i.start, i.end, card.period.end)


def live_section(ctx: Context, until: datetime) -> None:
    since = until - LIVE_SPAN
    alerts = data.received_alerts(ctx.url, since, until, ctx.service)
    keep = ctx.members()
    incidents = [i for i in incident_view.live_incidents(alerts, ctx.settings.incidents, until)
                 if keep is None or i.service in keep]
    st.subheader("From the alert log, last 7 days")
    if not incidents:
        st.caption("No incident in the alert log.")
        return
    st.plotly_chart(charts.incident_timeline([(i.service, i.start, i.end) for i in incidents],
                                      since, until), key="incident_timeline")
    widgets.table(incident_view.live_frame(incidents, ctx.settings.tzinfo), key="incidents",
                  formats=report_view.FORMATS)
    for i in incidents:
        with st.expander(f"{i.service} {view.when(i.start, ctx.settings.tzinfo)}"):
            show_evidence(ctx, i.service, i.start, i.end, until)


def page(ctx: Context) -> None:
    st.title("Incidents")
    card = data.scorecard(ctx.url, ctx.period, ctx.scope) if ctx.period else None
    if card is not None:
        period_section(ctx, card)
        return
    widgets.no_scorecard(ctx.period, ctx.scope)
    live_section(ctx, ctx.evaluated_at or data.now())


page(current())
