"""Incidents from Alertmanager as DORA inputs (reference/dora.md E5): ``core.dora_model.Incident``.

Only qualifying alerts count: severity in ``dora.severities``, a production environment and a
service label (``core.incidents.SERVICE_LABELS``; alerts without one are left out). The
environment is the first present label of ``ENVIRONMENT_LABELS``, else the first of
``dora.production_environments``. Per (service, environment), qualifying alert intervals merge
into incidents as ``sloctl incidents`` merges them (``incidents.merge_gap_seconds``). Each incident
keeps the labels of its alerts (the earliest alert's values first), so a version or commit SHA
label allows exact attribution. Its id is ``incident_id(...)``, e.g.
``checkout@2026-11-27T09:00:00Z`` (``checkout/prod@...`` outside the default environment).

``find_incident`` and ``find_deployment`` resolve the arguments of ``sloctl incidents link``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sloctl.core.incidents import UNATTRIBUTED, AlertInstance, build_incidents
from sloctl.dora.model import Deployment, DoraIncident
from sloctl.errors import SloctlError
from sloctl.settings import Settings
from sloctl.store import StoreReader
from sloctl.store.incidents import StoredAlert

ENVIRONMENT_LABELS = ("env", "environment", "deployment_environment")
MIN_SHA_PREFIX = 7


class IncidentLinkError(SloctlError):
    """``sloctl incidents link/unlink`` named an unknown incident or deployment."""


def incident_id(service: str, start: datetime, environment: str | None = None) -> str:
    """The stable id of an incident: ``<service>[/<environment>]@<start, ISO UTC>``."""
    scope = service if environment is None else f"{service}/{environment}"
    return f"{scope}@{_iso(start)}"


def environment_of(labels: Mapping[str, str], default: str) -> str:
    """The alert's environment label, else ``default``."""
    for name in ENVIRONMENT_LABELS:
        value = labels.get(name)
        if value:
            return value
    return default


def dora_incidents(
    alerts: Iterable[StoredAlert], settings: Settings, now: datetime
) -> list[DoraIncident]:
    """The qualifying production incidents of these alert instances, by start then service."""
    dora = settings.dora
    default_env = dora.production_environments[0]
    by_env: dict[str, list[StoredAlert]] = {}
    for a in alerts:
        env = environment_of(a.labels, default_env)
        if env in dora.production_environments and a.severity in dora.severities:
            by_env.setdefault(env, []).append(a)
    result: list[DoraIncident] = []
    for env, members in by_env.items():
        members.sort(key=lambda a: (a.starts_at, a.fingerprint))
        labels_of = {a.fingerprint: a.labels for a in reversed(members)}  # earliest wins
        first_seen = list(dict.fromkeys(a.fingerprint for a in members))
        instances = [
            AlertInstance(a.fingerprint, a.starts_at, a.ends_at, a.labels) for a in members
        ]
        for episode in build_incidents(
            instances,
            merge_gap_seconds=settings.incidents.merge_gap_seconds,
            severities=dora.severities,
            now=now,
        ):
            if episode.service == UNATTRIBUTED:  # no service label: not a DORA incident
                continue
            labels: dict[str, str] = {}
            in_episode = set(episode.fingerprints)
            for fp in (f for f in first_seen if f in in_episode):
                for name, value in labels_of[fp].items():
                    labels.setdefault(name, value)
            result.append(
                DoraIncident(
                    id=incident_id(
                        episode.service, episode.start, None if env == default_env else env
                    ),
                    service=episode.service,
                    environment=env,
                    start=episode.start,
                    end=episode.end,
                    severity=episode.severity,
                    labels=labels,
                )
            )
    result.sort(key=lambda i: (i.start, i.service, i.environment))
    return result


def load_dora_incidents(
    store: StoreReader, settings: Settings, now: datetime
) -> list[DoraIncident]:
    """Every qualifying production incident recorded from Alertmanager in the store."""
    return dora_incidents(store.alerts.received(), settings, now)


def find_incident(incidents: Iterable[DoraIncident], wanted: str) -> DoraIncident:
    """The incident with this id; IncidentLinkError listing the service's ids if none."""
    known = list(incidents)
    for incident in known:
        if incident.id == wanted:
            return incident
    service = wanted.partition("@")[0].partition("/")[0]
    same = [i.id for i in known if i.service == service][-5:]
    hint = (
        f"recent ids of {service}: {', '.join(same)}"
        if same
        else "see the ids of `sloctl incidents --output json`"
    )
    raise IncidentLinkError(
        f"unknown incident {wanted!r}: no qualifying production incident (severity in "
        f"dora.severities, production environment) has this id; {hint}"
    )


def find_deployment(
    incident: DoraIncident, wanted: str, deployments: Iterable[Deployment]
) -> Deployment:
    """The completed deployment of the incident's service and environment named by ``wanted``:
    its version, its commit SHA (7+ leading hex digits), or ``VERSION@FINISHED`` (ISO time)."""
    candidates = [
        d
        for d in deployments
        if d.service == incident.service
        and d.environment == incident.environment
        and d.status.completed
    ]
    version, at, finished = wanted.rpartition("@")
    if not at:
        version, finished = wanted, ""
    matches = [d for d in candidates if _names(d, version, finished)]
    where = f"{incident.service}/{incident.environment}"
    if not matches:
        recent = ", ".join(d.version for d in candidates[-5:]) or "none recorded"
        raise IncidentLinkError(
            f"no completed deployment of {where} matches {wanted!r}; give a version, a commit "
            f"SHA or VERSION@FINISHED (recent versions: {recent})"
        )
    if len(matches) > 1:
        options = ", ".join(f"{d.version}@{_iso(d.finished)}" for d in matches)
        raise IncidentLinkError(
            f"{wanted!r} matches {len(matches)} deployments of {where}; pick one: {options}"
        )
    return matches[0]


def _names(d: Deployment, version: str, finished: str) -> bool:
    if finished:
        try:
            at = datetime.fromisoformat(finished)
        except ValueError:
            return False
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        return d.version == version and d.finished == at
    sha = version.lower()
    return d.version == version or (len(sha) >= MIN_SHA_PREFIX and d.sha.startswith(sha))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
