"""SLOs: now (the last evaluation: tiles, the SLO table) and over the period (the weekly
scorecard's statuses), then the burn-down of one SLO and its service's golden signals."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from sloctl.core.evaluation import Evaluation
from sloctl.dashboard import charts, data, filters, report_view, table, view, widgets
from sloctl.dashboard.context import Context, current


def now_section(ctx: Context, ev: Evaluation) -> None:
    widgets.tile_rows(view.tiles(ev, ctx.settings.tzinfo))
    st.subheader("SLOs now")
    table.slo_table(view.slo_frame(ev), key="slos_now")
    notes = view.unknown_notes(ev)
    if notes:
        st.caption("**unknown** values: " + " · ".join(notes))


def period_section(ctx: Context, keep: frozenset[str] | None) -> None:
    if ctx.period is None:
        return
    card = data.scorecard(ctx.url, ctx.period, "organisation")
    if card is None:
        return
    st.subheader(f"SLOs over {card.period_label}")
    widgets.table(report_view.slo_lines(card, keep), key="slos_period", formats=report_view.FORMATS)
    c = card.combined
    st.caption(f"Combined over the organisation's SLOs (events-weighted): SLI "
               f"{'n/a' if c.sli is None else f'{c.sli * 100:.3f} %'}, {c.met} of {c.slos} "
               f"OK, {c.breached} breached.")


def burn_down(ctx: Context, ev: Evaluation, span: timedelta) -> str:
    """The burn-down of the chosen SLO (least budget first); returns its service."""
    st.subheader("Error budget burn-down")
    slo_id = filters.choose_on_page("SLO", "slo", view.lowest_budget_first(ev),
                                    view.lowest_budget_first(ev)[0])
    slo = next(s for s in ev.slos if s.slo_id == slo_id)
    history = data.slo_history(ctx.url, slo.slo_id, ev.at - span, ev.at, data.HISTORY_POINTS)
    st.plotly_chart(charts.burn_down(history, slo.slo_id), key="burn_down")
    if slo.budget_remaining is None:
        st.caption(f"budget remaining now: **unknown** ({'; '.join(view.slo_notes(slo))})")
    elif slo.budget_remaining <= 0:
        st.caption("the error budget is **exhausted** for this window")
    elif slo.exhaustion_at is not None:
        exhausted = view.when(slo.exhaustion_at, ctx.settings.tzinfo)
        st.caption(f"at the current burn rate the budget runs out at {exhausted}")
    return slo.service


def golden_signals(ctx: Context, ev: Evaluation, service: str, span: timedelta) -> None:
    st.subheader(f"Golden signals of {service}")
    history = data.signal_history(ctx.url, service, ev.at - span, ev.at, data.HISTORY_POINTS)
    st.plotly_chart(charts.golden_signals(history, service), key="golden_signals")
    notes = view.signal_notes(ev.signals, service)
    if notes:
        st.caption("**unknown** now: " + " · ".join(notes))


def page(ctx: Context) -> None:
    st.title("SLOs")
    latest = data.latest_evaluation(ctx.url)
    if latest is None:
        return
    keep = ctx.members()
    ev = view.scoped(latest, keep)
    if not ev.slos:
        st.info(f"No SLO of {ctx.scope.split('/', 1)[-1]} in the last evaluation.")
        return
    now_section(ctx, ev)
    period_section(ctx, keep)
    span = widgets.history_range()
    service = burn_down(ctx, ev, span)
    golden_signals(ctx, ev, service, span)


page(current())
