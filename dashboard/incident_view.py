"""Incidents as the app shows them: merged from the alert log, on the timeline, with evidence.

No Streamlit here. ``live_incidents`` merges Alertmanager's stored alert instances exactly as
``sloctl incidents`` does (``core.incidents``, with the settings' gap and severities). The
evidence of an incident: the alerts that fired, the exemplar traces stored for its service
around it, and the ``sloctl logs`` command for its logs (Loki is not stored, only queried).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import pandas as pd

from sloctl.core.exemplars import TraceLink
from sloctl.core.incidents import AlertIncident, AlertInstance, build_incidents
from sloctl.dashboard.canary_timeline import TimelineRow
from sloctl.settings import IncidentSettings
from sloctl.store.incidents import StoredAlert
from sloctl.store.traces import TraceFindings


def live_incidents(alerts: Sequence[StoredAlert], settings: IncidentSettings,
                   now: datetime) -> list[AlertIncident]:
    """Incidents from the alert log's instances, ordered by start then service."""
    return build_incidents(
        (AlertInstance(a.fingerprint, a.starts_at, a.ends_at, a.labels) for a in alerts),
        merge_gap_seconds=settings.merge_gap_seconds, severities=settings.severities, now=now)


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def timeline_rows(incidents: Sequence[AlertIncident]) -> list[TimelineRow]:
    """Incidents as timeline rows (at their start)."""
    return [TimelineRow(
        i.start, i.service, "incident", "",
        f"{'open' if i.open else minutes(i.duration_seconds)}, {i.severity}",
        "alerts: " + ", ".join(i.alerts)) for i in incidents]


def live_frame(incidents: Sequence[AlertIncident], tz: tzinfo) -> pd.DataFrame:
    rows = [{
        "Service": i.service, "Start": i.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "End": "open" if i.end is None else i.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "Duration (min)": i.duration_seconds / 60, "Severity": i.severity,
        "Alerts": ", ".join(i.alerts),
    } for i in reversed(incidents)]
    return pd.DataFrame(rows, columns=["Service", "Start", "End", "Duration (min)", "Severity",
                                       "Alerts"])


@dataclass(frozen=True)
class Evidence:
    alerts: tuple[StoredAlert, ...]  # the service's alerts active during the incident
    traces: tuple[TraceLink, ...]  # exemplar traces of the service (failing first)
    traces_at: datetime | None  # when the trace step found them
    logs_command: str


def evidence(service: str, start: datetime, end: datetime | None, alerts: Sequence[StoredAlert],
             findings: TraceFindings | None, tz: tzinfo) -> Evidence:
    """What the store holds about one incident ([start, end]; an open one up to now)."""
    stop = end or datetime.max.replace(tzinfo=start.tzinfo)
    mine = tuple(a for a in alerts if a.service == service and a.starts_at <= stop
                 and (a.ends_at is None or a.ends_at >= start))
    links: list[TraceLink] = []
    if findings is not None:
        for record in findings.exemplars:
            found = record.exemplars
            if found.service == service:
                links += [t for t in (*found.failing, *found.slowest) if t not in links]
    since = (start - timedelta(minutes=5)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    until = "now" if end is None else (end + timedelta(minutes=5)).astimezone(tz).strftime(
        "%Y-%m-%dT%H:%M")
    return Evidence(mine, tuple(links), findings.at if findings and links else None,
                    f"sloctl logs {service} --errors --since {since} --until {until}")
