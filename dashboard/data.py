"""The dashboard's only access to data: the store named by the settings, cached.

Queries are cached for ``CACHE_TTL`` seconds; history is downsampled in SQL to ``HISTORY_POINTS``
points per series (``None``: every stored point, used by the benchmark's baseline), across the
store's tiers: raw evaluations, then hourly and daily roll-ups further back (each point with its
bucket's ``_min`` and ``_max``, see ``sloctl.store.history``).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from sloctl.core.evaluation import Evaluation
from sloctl.settings import Settings, load_settings
from sloctl.store import StoreReader
from sloctl.store.scorecards import StoredScorecard

CACHE_TTL = 30  # seconds; the scheduler evaluates every 60 s by default
HISTORY_POINTS: int | None = 500


def settings() -> Settings:
    """Settings from SLOCTL_* variables and sloctl.yaml (cheap; read on every rerun)."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def store(url: str) -> StoreReader:
    """One read-only store (engine and connection pool) per URL, shared by every session: the
    dashboard never writes nor changes the schema."""
    return StoreReader(url)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
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
def dora_scorecards(url: str) -> list[StoredScorecard]:
    """Every scope of the latest stored DORA computation (``sloctl serve`` every 5 min)."""
    return store(url).scorecards.latest()
