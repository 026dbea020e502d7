"""Incidents from Alertmanager alert instances (pure; see reference/dora.md E5).

An alert instance is keyed by ``(fingerprint, starts_at)``; its interval is ``[starts_at,
ends_at]`` with ``ends_at`` None while it fires. Per service, qualifying intervals that overlap or
whose gap is at most ``merge_gap_seconds`` form one incident. An incident is open while any of its
alerts fires. Qualifying: the alert's severity is one of ``severities`` (listed highest first).
The service comes from the first present label of ``SERVICE_LABELS``; alerts without one go to
the ``UNATTRIBUTED`` bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "job")
UNATTRIBUTED = "(not attributable)"


@dataclass(frozen=True)
class AlertInstance:
    """One alert instance as Alertmanager notified it (payload times, not receipt times)."""

    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None  # None while firing
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str | None:
        return self.labels.get("severity")

    @property
    def service(self) -> str:
        return service_of(self.labels)

    @property
    def firing(self) -> bool:
        return self.ends_at is None


@dataclass(frozen=True)
class AlertIncident:
    """Merged alert intervals of one service."""

    service: str
    start: datetime
    end: datetime | None  # None while any member alert fires
    duration_seconds: float  # up to ``now`` while open
    severity: str  # the highest severity among its alerts
    alerts: tuple[str, ...]  # alert names, sorted
    fingerprints: tuple[str, ...]  # sorted

    @property
    def open(self) -> bool:
        return self.end is None


def service_of(labels: Mapping[str, str]) -> str:
    """The service an alert is about: the first label of SERVICE_LABELS, else UNATTRIBUTED."""
    for name in SERVICE_LABELS:
        value = labels.get(name)
        if value:
            return value
    return UNATTRIBUTED


def build_incidents(
    alerts: Iterable[AlertInstance],
    *,
    merge_gap_seconds: float,
    severities: Sequence[str],
    now: datetime,
) -> list[AlertIncident]:
    """Incidents from alert instances, ordered by start then service.

    ``severities`` lists the qualifying severities, highest first; other alerts are ignored.
    Intervals merge when they overlap or the gap between them is at most ``merge_gap_seconds``.
    An end before its start counts as a zero-length interval at the start.
    """
    rank = {name: i for i, name in enumerate(severities)}
    by_service: dict[str, list[AlertInstance]] = {}
    for alert in alerts:
        if alert.severity in rank:
            by_service.setdefault(alert.service, []).append(alert)
    gap = timedelta(seconds=merge_gap_seconds)
    incidents: list[AlertIncident] = []
    for service, members in by_service.items():
        members.sort(key=lambda a: (a.starts_at, a.fingerprint))
        group: list[AlertInstance] = []
        end: datetime | None = None
        for alert in members:
            if group and (end is None or alert.starts_at <= end + gap):
                group.append(alert)
                end = _later(end, _end(alert))
                continue
            if group:
                incidents.append(_incident(service, group, end, rank, now))
            group, end = [alert], _end(alert)
        incidents.append(_incident(service, group, end, rank, now))
    incidents.sort(key=lambda i: (i.start, i.service))
    return incidents


def _end(alert: AlertInstance) -> datetime | None:
    if alert.ends_at is None:
        return None
    return max(alert.ends_at, alert.starts_at)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later end; None (still firing) is later than any time."""
    if a is None or b is None:
        return None
    return max(a, b)


def _incident(
    service: str,
    group: Sequence[AlertInstance],
    end: datetime | None,
    rank: Mapping[str, int],
    now: datetime,
) -> AlertIncident:
    start = group[0].starts_at
    until = end if end is not None else max(now, start)
    severity = min((a.severity for a in group if a.severity is not None), key=rank.__getitem__)
    return AlertIncident(
        service=service,
        start=start,
        end=end,
        duration_seconds=(until - start).total_seconds(),
        severity=severity,
        alerts=tuple(sorted({a.alertname for a in group})),
        fingerprints=tuple(sorted({a.fingerprint for a in group})),
    )
