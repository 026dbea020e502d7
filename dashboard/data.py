"""The app's only access to data: the store named by the settings, read only, cached.

Every page reads through these functions, never through the store directly. A ``StoreReader``
never writes nor changes the schema (SQLite opened ``mode=ro``, PostgreSQL ``READ ONLY``), and
a missing SQLite file is an error saying what to run, never created here.

Queries are cached for ``CACHE_TTL`` seconds per (store URL, arguments): the large immutable
values (the last evaluation, weekly scorecards: frozen dataclasses) are shared by every session
(``st.cache_resource``), not copied on every page view as ``st.cache_data`` copies (unpickling
a 200-SLO evaluation costs 10 to 150 ms with the garbage collector's pauses); the rest is
copied. History is downsampled
in SQL to ``HISTORY_POINTS`` points per series (``None``: every stored point, the benchmark's
baseline), across the store's tiers: raw evaluations, then hourly and daily roll-ups further
back (each point with its bucket's ``_min`` and ``_max``, see ``sloctl.store.history``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

import sloctl.report.read as report
from sloctl.core.evaluation import Evaluation
from sloctl.dashboard.canary_timeline import TimelineRow, timeline_rows
from sloctl.dora.model import Deployment
from sloctl.report.scorecard import PeriodScorecard
from sloctl.settings import Settings, load_settings
from sloctl.store import StoreReader
from sloctl.store.incidents import StoredAlert
from sloctl.store.reports import SendRecord
from sloctl.store.scorecards import StoredScorecard
from sloctl.store.traces import TraceFindings

CACHE_TTL = 30  # seconds; the scheduler evaluates every 60 s by default
HISTORY_POINTS: int | None = 500


def settings() -> Settings:
    """Settings from SLOCTL_* variables and sloctl.yaml (cheap; read on every rerun)."""
    return load_settings()


def now() -> datetime:
    """The wall clock, for the data's age (tests replace it)."""
    return datetime.now(UTC)


def _close(reader: StoreReader) -> None:
    reader.close()


@st.cache_resource(show_spinner=False, on_release=_close)
def store(url: str) -> StoreReader:
    """One read-only store (engine and connection pool) per URL, shared by every session;
    closed when the cache lets it go (``st.cache_resource.clear()``)."""
    return StoreReader(url)


# -- evaluations ----------------------------------------------------------------------------------


@st.cache_resource(ttl=CACHE_TTL, show_spinner=False)
def latest_evaluation(url: str) -> Evaluation | None:
    return store(url).evaluations.latest()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def slo_history(
    url: str, slo_id: str, since: datetime, until: datetime, max_points: int | None
) -> pd.DataFrame:
    return store(url).evaluations.slo_history(slo_id, since, until, max_points=max_points)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def signal_history(
    url: str, service: str, since: datetime, until: datetime, max_points: int | None
) -> pd.DataFrame:
    return store(url).evaluations.signal_history(service, since, until, max_points=max_points)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def services(url: str) -> list[str]:
    """Every service the store has seen (SLOs or signals), sorted."""
    return store(url).evaluations.services()


# -- DORA, deployments, canary, incidents, traces -------------------------------------------------


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def dora_scorecards(url: str) -> list[StoredScorecard]:
    """Every scope of the latest stored DORA computation (``sloctl serve`` every 5 min)."""
    return store(url).scorecards.latest()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def deployments(url: str, service: str, since: datetime, until: datetime) -> list[Deployment]:
    """The service's deployments finished in [since, until), oldest first."""
    return [d for d in store(url).deployments.history(until, service) if d.finished >= since]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def timeline(url: str, service: str, since: datetime, until: datetime) -> list[TimelineRow]:
    """Deployments and canary judgements of the service in [since, until), newest first."""
    return timeline_rows(store(url), since, until, service)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def received_alerts(
    url: str, since: datetime, until: datetime, service: str | None = None
) -> list[StoredAlert]:
    """Alertmanager's alert instances active in [since, until], oldest first."""
    return [a for a in store(url).alerts.received(since, service) if a.starts_at <= until]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def trace_findings(url: str, until: datetime) -> TraceFindings | None:
    """The trace findings (exemplars) of the latest instant at or before ``until``."""
    return store(url).traces.latest(until)


# -- the weekly report ----------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def report_periods(url: str) -> list[tuple[str, datetime, datetime, datetime]]:
    """Every measured period: (key, start, end, measured_at), newest first."""
    return report.periods(store(url))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def report_scopes(url: str, period: str) -> list[str]:
    """The scope keys with a stored scorecard for ``period`` (organisation, team/T, service/S)."""
    return [scope.key for scope in report.scopes(store(url), period)]


@st.cache_resource(ttl=CACHE_TTL, show_spinner=False)
def scorecard(url: str, period: str, scope: str) -> PeriodScorecard | None:
    """The stored scorecard of (period, scope): the digits the email showed."""
    return report.load_scorecard(store(url), period, scope)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def send_records(url: str, period: str) -> list[SendRecord]:
    """The period's emails, oldest first, with their state and last error."""
    return report.send_records(store(url), period)
