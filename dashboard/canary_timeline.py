"""A deployment timeline with the canary judgements beside each deployment (issue #16 item 3).

The Services page shows it in each service's timeline (``data.timeline`` caches
``timeline_rows``; the page adds the service's incidents and draws them with ``render_rows``):

    from sloctl.dashboard.canary_timeline import render_timeline
    render_timeline(store_reader, since, until, service="order")

``timeline_rows`` is the pure part (tested with a store): deployments and judgements of the
window, newest first, each judgement naming the deployment of its version when one is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sloctl.dora.model import CanaryJudgement, Deployment
from sloctl.store import StoreReader

ICONS = {"pass": "✅ pass", "fail": "❌ fail", "inconclusive": "⏳ inconclusive"}


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    service: str
    kind: str  # "deployment", "canary" (or "incident", added by the Services page)
    version: str
    what: str  # the deployment's status, or the judgement's verdict
    detail: str


def timeline_rows(
    reader: StoreReader, since: datetime, until: datetime, service: str | None = None
) -> list[TimelineRow]:
    """Deployments finished and judgements made in [since, until), newest first."""
    deployments = [d for d in reader.deployments.history(until, service) if d.finished >= since]
    rows = [TimelineRow(d.finished, d.service, "deployment", d.version, d.status.value,
                        f"{d.environment}, {d.sha[:12]}") for d in deployments]
    for j in reader.canary.judgements(service=service, since=since, until=until):
        judged = _deployment_of(j.service, j.version, j.environment, deployments)
        where = f"deployment {judged.version} of {judged.finished:%Y-%m-%d %H:%M}" \
            if judged else "no recorded deployment"
        rows.append(TimelineRow(
            j.at, j.service, "canary", j.version or "", ICONS.get(j.verdict, j.verdict),
            f"{j.canary} vs {j.baseline} over {j.since_seconds // 60} min; {where}"))
    return sorted(rows, key=lambda r: (r.at, r.kind), reverse=True)


def _deployment_of(service: str, version: str | None, environment: str | None,
                   deployments: list[Deployment]) -> Deployment | None:
    if version is None:
        return None
    probe = CanaryJudgement(service, version, datetime.min, "", environment)
    found = [d for d in deployments if probe.concerns(d)]
    return found[-1] if found else None


def render_timeline(reader: StoreReader, since: datetime, until: datetime,
                    service: str | None = None) -> None:
    """The timeline as a Streamlit table (imported here: the rows need no Streamlit)."""
    render_rows(timeline_rows(reader, since, until, service))


def render_rows(rows: Sequence[TimelineRow], tz: tzinfo = UTC) -> None:
    """Rows (deployments, judgements and any other events, newest first) as a table."""
    import streamlit as st

    if not rows:
        st.info("No deployments or canary judgements in this window. Judgements come from "
                "`sloctl canary` and GET /api/v1/canary.")
        return
    table: list[dict[str, Any]] = [
        {"time": r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "service": r.service,
         "event": r.kind, "version": r.version, "result": r.what, "detail": r.detail}
        for r in rows]
    st.dataframe(table, hide_index=True, width="stretch", key="timeline_table")
