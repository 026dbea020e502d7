"""What every page is given: settings, the store's URL, the chosen period, team and service,
and the last evaluation's instant. ``app.py`` sets it before it runs the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from sloctl.dashboard import data
from sloctl.settings import Settings

KEY = "_sloctl_context"


@dataclass(frozen=True)
class Context:
    settings: Settings
    url: str
    period: str | None  # a stored report period (newest by default); None: none stored
    team: str | None
    service: str | None
    evaluated_at: datetime | None  # the last evaluation's instant; None: none stored

    @property
    def scope(self) -> str:
        """The report scope the filters name: service/S, team/T or organisation."""
        if self.service:
            return f"service/{self.service}"
        if self.team:
            return f"team/{self.team}"
        return "organisation"

    def members(self) -> frozenset[str] | None:
        """The services the filters keep (None: every service)."""
        if self.service:
            return frozenset({self.service})
        if not self.team:
            return None
        org = data.scorecard(self.url, self.period, "organisation") if self.period else None
        line = next((t for t in org.teams if t.team == self.team), None) if org else None
        if line is not None:
            return frozenset(line.services)
        return frozenset(self.settings.dora.teams.get(self.team, ()))


def set_current(ctx: Context) -> None:
    st.session_state[KEY] = ctx


def current() -> Context:
    """The context ``app.py`` set for this run."""
    ctx: Context = st.session_state[KEY]
    return ctx
