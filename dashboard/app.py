"""SLO scorecard page (``streamlit run dashboard/app.py``): renders what the store holds."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

# `streamlit run` puts dashboard/ on sys.path, not the repository root that holds the packages.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

from dashboard import access, charts, data, dora_view, table, view  # noqa: E402
from sloctl.core.evaluation import Evaluation  # noqa: E402
from sloctl.errors import SloctlError  # noqa: E402
from sloctl.settings import Settings  # noqa: E402
from sloctl.store.database import shown  # noqa: E402

RANGES = {"24 hours": timedelta(days=1), "7 days": timedelta(days=7), "30 days": timedelta(days=30),
          "90 days": timedelta(days=90), "400 days": timedelta(days=400)}  # hourly, daily tiers
DEFAULT_RANGE = "30 days"


def header_tiles(ev: Evaluation, settings: Settings) -> None:
    for column, tile in zip(st.columns(4), view.tiles(ev, settings.tzinfo), strict=True):
        column.metric(
            tile.label,
            tile.value,
            delta=tile.delta,
            delta_color=tile.color,  # type: ignore[arg-type]
            delta_arrow="off",
            help=tile.help,
            border=True,
        )


def slo_table(ev: Evaluation) -> None:
    st.subheader("SLOs")
    st.dataframe(table.styled(view.slo_frame(ev)), hide_index=True, placeholder="unknown")
    notes = view.unknown_notes(ev)
    if notes:
        st.caption("**unknown** values: " + " · ".join(notes))


def _follow_slo(service_of: dict[str, str], services: list[str]) -> None:
    """When another SLO is picked, show the golden signals of its service."""
    service = service_of.get(st.session_state["slo"])
    if service in services:
        st.session_state["service"] = service


def burn_down(url: str, ev: Evaluation, span: timedelta, settings: Settings) -> str:
    """The burn-down chart of the selected SLO (least budget first); returns its service."""
    st.subheader("Error budget burn-down")
    service_of = {s.slo_id: s.service for s in ev.slos}
    slo_id = st.selectbox(
        "SLO",
        view.lowest_budget_first(ev),
        key="slo",
        on_change=_follow_slo,
        args=(service_of, view.services(ev)),
    )
    slo = next(s for s in ev.slos if s.slo_id == slo_id)
    history = data.slo_history(url, slo.slo_id, ev.at - span, ev.at, data.HISTORY_POINTS)
    st.plotly_chart(charts.burn_down(history, slo.slo_id), key="burn_down")
    if slo.budget_remaining is None:
        st.caption(f"budget remaining now: **unknown** ({'; '.join(view.slo_notes(slo))})")
    elif slo.budget_remaining <= 0:
        st.caption("the error budget is **exhausted** for this window")
    elif slo.exhaustion_at is not None:
        exhausted = view.when(slo.exhaustion_at, settings.tzinfo)
        st.caption(f"at the current burn rate the budget runs out at {exhausted}")
    return slo.service


def golden_signals(url: str, ev: Evaluation, span: timedelta, default_service: str) -> None:
    st.subheader("Golden signals")
    services = view.services(ev)
    if not services:
        st.caption("No golden signals in the last evaluation.")
        return
    if st.session_state.get("service") not in services:
        st.session_state["service"] = (
            default_service if default_service in services else services[0]
        )
    service = st.selectbox("Service", services, key="service")
    history = data.signal_history(url, service, ev.at - span, ev.at, data.HISTORY_POINTS)
    st.plotly_chart(charts.golden_signals(history, service), key="golden_signals")
    notes = view.signal_notes(ev.signals, service)
    if notes:
        st.caption("**unknown** now: " + " · ".join(notes))


def dora_section(url: str, settings: Settings) -> None:
    """The DORA tiles of one scope (organisation by default), from the stored scorecards."""
    st.subheader("DORA")
    cards = data.dora_scorecards(url)
    if not cards:
        st.caption(
            "No DORA scorecard stored yet: `sloctl serve` computes one every 5 minutes from "
            "the recorded deployments (`sloctl deploy record` or POST /api/v1/deployments)."
        )
        return
    scope = st.selectbox("DORA scope", dora_view.scopes(cards), key="dora_scope")
    card = next(c for c in cards if c.scope == scope)
    tiles = dora_view.tiles(card)
    for start in range(0, len(tiles), 3):
        for column, tile in zip(st.columns(3), tiles[start : start + 3], strict=True):
            column.metric(
                tile.label,
                tile.value,
                delta=tile.delta,
                delta_color=tile.color,  # type: ignore[arg-type]
                delta_arrow="off",
                help=tile.help,
                border=True,
            )
    st.caption(dora_view.period_caption(card, view.when(card.computed_at, settings.tzinfo)))


def page() -> None:
    settings = data.settings()
    url = settings.store_url
    ev = data.latest_evaluation(url)
    if ev is None:
        st.info(
            f"The store {shown(url)} holds no evaluation yet. Fill it with `sloctl eval` "
            "(one evaluation now) or `sloctl serve` (one every interval), then reload this page."
        )
        return
    st.caption(f"Store {shown(url)} · evaluated at {view.when(ev.at, settings.tzinfo)}")
    header_tiles(ev, settings)
    slo_table(ev)
    label = st.selectbox("History range", list(RANGES), index=list(RANGES).index(DEFAULT_RANGE))
    span = RANGES[label]
    service = burn_down(url, ev, span, settings) if ev.slos else ""
    golden_signals(url, ev, span, service)
    dora_section(url, settings)


def allowed(settings: Settings) -> bool:
    """Loopback visitors, or the proxy's allowed users (``dashboard/access.py``); says why not."""
    verdict = access.check_access(dict(st.context.headers), settings.dashboard)
    if not verdict.allowed:
        st.error(f"Not shown: {verdict.refused}.")
    elif verdict.user:
        st.caption(f"signed in as {verdict.user}")
    return verdict.allowed


def main() -> None:
    st.set_page_config(page_title="sloctl · SLO scorecard", layout="wide")
    st.title("SLO scorecard")
    try:
        if not allowed(data.settings()):
            return
        page()
    except SloctlError as err:  # bad settings, store unreachable: say what to fix
        st.error(str(err))


main()
