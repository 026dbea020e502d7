"""The sloctl app (``sloctl dashboard``; from a checkout, ``streamlit run
dashboard/app.py``): pages that render what the store holds.

Every page goes through this frame: the access check (loopback, or the proxy's user), the
store (read only; a missing file is an error saying what to run, never created), the period,
team and service (in the URL, so a link can be shared) and the data's freshness; then
``st.navigation`` runs the chosen page from ``app_pages/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from sloctl.dashboard import access, data, filters
from sloctl.dashboard.context import Context, set_current
from sloctl.dashboard.freshness import freshness
from sloctl.errors import SloctlError
from sloctl.settings import Settings
from sloctl.store.database import shown

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageDef:
    url_path: str  # the email's links use these: /slos, /services, /dora, /incidents, /reports
    title: str
    icon: str

    @property
    def file(self) -> Path:
        return HERE / "app_pages" / f"{self.url_path}.py"


PAGES = (
    PageDef("overview", "Overview", ":material/dashboard:"),
    PageDef("services", "Services", ":material/dns:"),
    PageDef("slos", "SLOs", ":material/speed:"),
    PageDef("dora", "DORA", ":material/rocket_launch:"),
    PageDef("incidents", "Incidents", ":material/emergency:"),
    PageDef("reports", "Reports", ":material/mail:"),
)


def allowed(settings: Settings) -> bool:
    """Loopback visitors, or the proxy's allowed users (``access.py``); says why not."""
    verdict = access.check_access(dict(st.context.headers), settings.dashboard)
    if not verdict.allowed:
        st.error(f"Not shown: {verdict.refused}.")
    elif verdict.user:
        st.sidebar.caption(f"signed in as {verdict.user}")
    return verdict.allowed


def choose_filters(settings: Settings) -> tuple[str | None, str | None, str | None]:
    """Period, team and service from the sidebar (and the URL)."""
    url = settings.store_url
    periods = [key for key, *_ in data.report_periods(url)]
    period = filters.choose("Period", "period", periods, periods[0], omit=None) \
        if periods else None
    scopes = data.report_scopes(url, period) if period else []
    teams = sorted({s.removeprefix("team/") for s in scopes if s.startswith("team/")}
                   | set(settings.dora.teams))
    team = filters.choose("Team", "team", [filters.ALL, *teams], filters.ALL, "All teams")
    services = sorted({s.removeprefix("service/") for s in scopes if s.startswith("service/")}
                      | set(data.services(url)))
    service = filters.choose("Service", "service", [filters.ALL, *services], filters.ALL,
                             "All services")
    return period, team or None, service or None


def show_freshness(ctx: Context) -> None:
    """The data's age on every page, a warning past 3 intervals; how to fill an empty store."""
    if ctx.evaluated_at is None:
        st.info(
            f"The store {shown(ctx.url)} holds no evaluation yet. Fill it with `sloctl eval` "
            "(one evaluation now) or `sloctl serve` (one every interval), then reload this page."
        )
        return
    fresh = freshness(ctx.evaluated_at, data.now(), ctx.settings.interval_seconds,
                      ctx.settings.tzinfo)
    st.caption(f"Store {shown(ctx.url)} · {fresh.line}")
    if fresh.warning:
        st.warning(fresh.warning)


def navigation(has_reports: bool) -> StreamlitPage:
    """The pages; the Overview first when weekly scorecards are stored, else the SLOs."""
    default = "overview" if has_reports else "slos"
    return st.navigation([
        st.Page(page.file, title=page.title, icon=page.icon, url_path=page.url_path,
                default=page.url_path == default)
        for page in PAGES
    ])


def main() -> None:
    st.set_page_config(page_title="sloctl", layout="wide")
    try:
        settings = data.settings()
        if not allowed(settings):
            return
        url = settings.store_url
        data.store(url)  # a missing or unusable store: its error says what to fix
        period, team, service = choose_filters(settings)
        ev = data.latest_evaluation(url)
        ctx = Context(settings, url, period, team, service, None if ev is None else ev.at)
        set_current(ctx)
        show_freshness(ctx)
        navigation(period is not None).run()
    except SloctlError as err:  # bad settings, store unreachable: say what to fix
        st.error(str(err))


main()
