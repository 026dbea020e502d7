"""Deployment events and manual incident links in the store (``store.deployments``).

Recording is idempotent on (service, environment, version, finished): the same event twice is
one row, the second write updates it. Manual links override the automatic attribution of an
incident (``sloctl incidents link/unlink``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sloctl.dora.model import Commit, Deployment, DeploymentKey, DeployStatus, ManualLinks
from sloctl.errors import StoreError
from sloctl.store.database import Database
from sloctl.store.schema import deployments, incident_links


@dataclass(frozen=True)
class Recorded:
    """What ``record`` stored, and whether the key was new."""

    deployment: Deployment
    created: bool


class DeploymentReads:
    """Reading deployments and manual incident links (``StoreReader.deployments``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def history(
        self, until: datetime | None = None, service: str | None = None
    ) -> list[Deployment]:
        """Every stored deployment finished before ``until``, oldest first."""
        query = select(deployments).order_by(deployments.c.finished, deployments.c.id)
        if until is not None:
            query = query.where(deployments.c.finished < until)
        if service is not None:
            query = query.where(deployments.c.service == service)
        with self._db.read() as conn:
            return [_deployment(r) for r in conn.execute(query).mappings()]

    def iter_recent(
        self, limit: int | None = None, service: str | None = None, batch: int = 1000
    ) -> Iterator[Deployment]:
        """Stored deployments, newest finish first, fetched ``batch`` at a time while they are
        used (``sloctl deploy list``); the newest ``limit`` only when given."""
        query = select(deployments).order_by(deployments.c.finished.desc(),
                                             deployments.c.id.desc())
        if service is not None:
            query = query.where(deployments.c.service == service)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            for r in conn.execution_options(yield_per=batch).execute(query).mappings():
                yield _deployment(r)

    def links(self) -> ManualLinks:
        """incident id -> linked deployment key, or None for unlinked."""
        with self._db.read() as conn:
            rows = conn.execute(select(incident_links)).mappings()
            return {
                r["incident_id"]: None
                if r["service"] is None
                else DeploymentKey(r["service"], r["environment"], r["version"], r["finished"])
                for r in rows
            }


class Deployments(DeploymentReads):
    """Deployments and manual incident links, writable (``Store.deployments``)."""

    def record(self, event: Deployment, source: str, now: datetime) -> Recorded:
        """Insert the event, or update the row with the same key. One transaction."""
        row = _row(event, source, now)
        key = _key_clause(event.key)
        try:
            with self._db.write("recording a deployment in") as conn:
                existing = conn.scalar(select(deployments.c.id).where(*key))
                if existing is None:
                    conn.execute(insert(deployments), row)
                else:
                    conn.execute(update(deployments).where(deployments.c.id == existing), row)
        except StoreError as err:  # a concurrent insert of the same key: update it instead
            if not isinstance(err.__cause__, IntegrityError):
                raise
            with self._db.write("recording a deployment in") as conn:
                conn.execute(update(deployments).where(*key), row)
            existing = -1
        return Recorded(event, existing is None)

    def link(self, incident_id: str, key: DeploymentKey, now: datetime, note: str = "") -> None:
        """Attribute the incident to this deployment, whatever the automatic rules say."""
        values = {
            "service": key.service,
            "environment": key.environment,
            "version": key.version,
            "finished": key.finished,
        }
        self._set_link(incident_id, values, now, note)

    def unlink(self, incident_id: str, now: datetime, note: str = "") -> None:
        """Attribute the incident to no deployment."""
        none = {"service": None, "environment": None, "version": None, "finished": None}
        self._set_link(incident_id, none, now, note)

    def clear_link(self, incident_id: str) -> bool:
        """Back to automatic attribution; False if there was no override."""
        with self._db.write("writing") as conn:
            result = conn.execute(
                delete(incident_links).where(incident_links.c.incident_id == incident_id)
            )
            return bool(result.rowcount)

    def _set_link(self, incident_id: str, values: dict[str, Any], now: datetime, note: str) -> None:
        row = {**values, "note": note, "at": now}
        with self._db.write("writing") as conn:
            where = incident_links.c.incident_id == incident_id
            if conn.scalar(select(incident_links.c.incident_id).where(where)) is None:
                conn.execute(insert(incident_links), {"incident_id": incident_id, **row})
            else:
                conn.execute(update(incident_links).where(where), row)


def _key_clause(key: DeploymentKey) -> list[Any]:
    return [
        deployments.c.service == key.service,
        deployments.c.environment == key.environment,
        deployments.c.version == key.version,
        deployments.c.finished == key.finished,
    ]


def _row(d: Deployment, source: str, now: datetime) -> dict[str, Any]:
    return {
        "service": d.service,
        "environment": d.environment,
        "version": d.version,
        "finished": d.finished,
        "sha": d.sha,
        "status": d.status.value,
        "commit_time": d.commit_time,
        "started": d.started,
        "ref": d.ref,
        "commits": [[c.sha, c.time.isoformat()] for c in d.commits],
        "source": source,
        "recorded_at": now,
    }


def _deployment(r: Any) -> Deployment:
    return Deployment(
        service=r["service"],
        environment=r["environment"],
        version=r["version"],
        sha=r["sha"],
        finished=r["finished"],
        status=DeployStatus(r["status"]),
        commit_time=r["commit_time"],
        started=r["started"],
        commits=tuple(Commit(sha, datetime.fromisoformat(t)) for sha, t in r["commits"]),
        ref=r["ref"],
    )
