"""Incidents from the alert log: received alert instances merged per service (core.incidents)."""

from __future__ import annotations

from datetime import datetime

from sloctl.core.incidents import AlertIncident, build_incidents
from sloctl.settings import IncidentSettings
from sloctl.store.alerts import AlertReads


def incidents(
    log: AlertReads,
    settings: IncidentSettings,
    *,
    now: datetime,
    since: datetime | None = None,
    service: str | None = None,
) -> list[AlertIncident]:
    """Incidents active at or after ``since``: the log's instances merged with ``settings``."""
    return build_incidents(
        log.instances(since, service),
        merge_gap_seconds=settings.merge_gap_seconds,
        severities=settings.severities,
        now=now,
    )
