"""Received Alertmanager notifications and alert instances: idempotent writes, incident reads.

    log = AlertLog(store)
    log.record(notification, received_at=datetime.now(UTC))  # one transaction per body
    log.instances(since=...)  # alert instances; sloctl.core.incidents merges them

An alert instance is keyed by ``(fingerprint, starts_at)``. A repeated firing notification changes
nothing but ``last_received_at``; a resolved one sets ``status`` and ``ends_at``; a late firing
notification never reopens a resolved instance (retries can arrive out of order).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from sloctl.core.incidents import AlertInstance, service_of
from sloctl.errors import StoreError
from sloctl.store.database import URL_HELP, shown
from sloctl.store.incident_tables import am_alerts, am_notifications
from sloctl.store.store import Store, batched

Status = Literal["firing", "resolved"]
_IN_CHUNK = 500


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert of a webhook body (``ends_at`` None while firing)."""

    fingerprint: str
    status: Status
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    generator_url: str = ""


@dataclass(frozen=True)
class Notification:
    """One accepted webhook body."""

    receiver: str
    status: Status
    group_key: str
    alerts: Sequence[ReceivedAlert]
    group_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0


@dataclass(frozen=True)
class RecordResult:
    """What one ``record`` call changed."""

    notification_id: int
    new: int  # alert instances seen for the first time
    resolved: int  # instances that became resolved
    repeated: int  # instances already known, status unchanged


@dataclass(frozen=True)
class StoredAlert:
    """An alert instance as stored."""

    fingerprint: str
    alertname: str
    service: str
    severity: str | None
    status: str
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str
    first_received_at: datetime
    last_received_at: datetime


@dataclass(frozen=True)
class DataGap:
    """A notification in which Alertmanager dropped alerts (``truncatedAlerts`` > 0)."""

    received_at: datetime
    receiver: str
    group_key: str
    alert_count: int
    truncated_alerts: int


class AlertLog:
    """Alertmanager notifications in the store's database (tables created on first use)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._engine = store.engine
        # SQLite has one writer at a time and its busy handler polls with growing sleeps; queueing
        # this process' writers on a lock instead keeps the tail latency low.
        sqlite = self._engine.dialect.name == "sqlite"
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if sqlite else nullcontext()
        )
        with self._transaction("creating the alert tables of") as conn:
            am_notifications.create(conn, checkfirst=True)
            am_alerts.create(conn, checkfirst=True)

    # -- writing ------------------------------------------------------------------------------

    def record(self, notification: Notification, received_at: datetime) -> RecordResult:
        """Store the notification and upsert its alerts in ONE transaction."""
        incoming: dict[tuple[str, datetime], ReceivedAlert] = {}
        for a in notification.alerts:
            incoming[(a.fingerprint, a.starts_at)] = a
        with (
            self._write_lock,
            self._transaction("recording an Alertmanager notification in") as conn,
        ):
            # Writing first makes this a write transaction from its start: on SQLite, concurrent
            # bodies queue on the write lock (busy timeout) instead of failing on a stale read.
            # Two bodies inserting the same new instance at once: the loser violates the unique
            # index, answers 503, and Alertmanager's retry then finds the instance known.
            notification_id = int(
                conn.execute(
                    insert(am_notifications).returning(am_notifications.c.id),
                    {
                        "received_at": received_at,
                        "receiver": notification.receiver,
                        "status": notification.status,
                        "group_key": notification.group_key,
                        "group_labels": dict(notification.group_labels),
                        "external_url": notification.external_url,
                        "alert_count": len(notification.alerts),
                        "truncated_alerts": notification.truncated_alerts,
                    },
                ).scalar_one()
            )
            known = self._known(conn, incoming)
            new_rows, resolve_rows, touch_rows = [], [], []
            for key, a in incoming.items():
                stored = known.get(key)
                if stored is None:
                    new_rows.append(_new_row(a, notification_id, received_at))
                elif a.status == "resolved" and stored[1] != "resolved":
                    resolve_rows.append(
                        {
                            "id_": stored[0],
                            "status": "resolved",
                            "ends_at": a.ends_at or received_at,
                            "annotations": dict(a.annotations),
                            "last_received_at": received_at,
                            "notification_id": notification_id,
                        }
                    )
                else:
                    touch_rows.append({"id_": stored[0], "last_received_at": received_at})
            if new_rows:
                conn.execute(insert(am_alerts), new_rows)
            by_id = am_alerts.c.id == bindparam("id_")
            if resolve_rows:
                conn.execute(update(am_alerts).where(by_id), resolve_rows)
            if touch_rows:
                conn.execute(update(am_alerts).where(by_id), touch_rows)
        return RecordResult(notification_id, len(new_rows), len(resolve_rows), len(touch_rows))

    def _known(
        self, conn: Connection, incoming: Mapping[tuple[str, datetime], ReceivedAlert]
    ) -> dict[tuple[str, datetime], tuple[int, str]]:
        """Stored ``(id, status)`` of the incoming instances, by key."""
        query = select(
            am_alerts.c.id, am_alerts.c.fingerprint, am_alerts.c.starts_at, am_alerts.c.status
        )
        fingerprints = sorted({fp for fp, _ in incoming})
        known: dict[tuple[str, datetime], tuple[int, str]] = {}
        for chunk in batched(fingerprints, _IN_CHUNK):
            for row_id, fp, starts_at, status in conn.execute(
                query.where(am_alerts.c.fingerprint.in_(chunk))
            ):
                if (fp, starts_at) in incoming:
                    known[(fp, starts_at)] = (row_id, status)
        return known

    # -- reading ------------------------------------------------------------------------------

    def firing(self) -> list[StoredAlert]:
        """Alert instances firing now (no resolved notification yet), newest first."""
        query = (
            select(am_alerts)
            .where(am_alerts.c.status == "firing")
            .order_by(am_alerts.c.starts_at.desc(), am_alerts.c.id.desc())
        )
        return self._alerts(query)

    def alerts(
        self, since: datetime | None = None, service: str | None = None
    ) -> list[StoredAlert]:
        """Instances active at or after ``since`` (firing or ended after it), oldest first."""
        query = select(am_alerts).order_by(am_alerts.c.starts_at, am_alerts.c.id)
        if since is not None:
            query = query.where(or_(am_alerts.c.ends_at.is_(None), am_alerts.c.ends_at >= since))
        if service is not None:
            query = query.where(am_alerts.c.service == service)
        return self._alerts(query)

    def count(self) -> int:
        """Number of stored alert instances."""
        with self._transaction("reading") as conn:
            return int(conn.scalar(select(func.count()).select_from(am_alerts)) or 0)

    def data_gaps(self, since: datetime | None = None) -> list[DataGap]:
        """Notifications with ``truncatedAlerts`` > 0, oldest first."""
        t = am_notifications.c
        query = select(am_notifications).where(t.truncated_alerts > 0).order_by(t.received_at)
        if since is not None:
            query = query.where(t.received_at >= since)
        with self._transaction("reading") as conn:
            return [
                DataGap(
                    r["received_at"],
                    r["receiver"],
                    r["group_key"],
                    r["alert_count"],
                    r["truncated_alerts"],
                )
                for r in conn.execute(query).mappings()
            ]

    def instances(
        self, since: datetime | None = None, service: str | None = None
    ) -> list[AlertInstance]:
        """Alert instances active at or after ``since`` (for ``core.incidents.build_incidents``)."""
        return [
            AlertInstance(a.fingerprint, a.starts_at, a.ends_at, a.labels)
            for a in self.alerts(since, service)
        ]

    def _alerts(self, query: Any) -> list[StoredAlert]:
        with self._transaction("reading") as conn:
            return [_stored(row) for row in conn.execute(query).mappings()]

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise StoreError(
                f"{action} the store {shown(self.store.url)} failed: {first}. Check that the "
                f"database is reachable and writable (SQLite: disk space and file permissions), "
                f"or {URL_HELP}"
            ) from err


def _new_row(a: ReceivedAlert, notification_id: int, received_at: datetime) -> dict[str, Any]:
    resolved = a.status == "resolved"
    return {
        "fingerprint": a.fingerprint,
        "starts_at": a.starts_at,
        "ends_at": (a.ends_at or received_at) if resolved else None,
        "status": a.status,
        "alertname": a.labels.get("alertname", ""),
        "service": service_of(a.labels),
        "severity": a.labels.get("severity"),
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "generator_url": a.generator_url,
        "first_received_at": received_at,
        "last_received_at": received_at,
        "notification_id": notification_id,
    }


def _stored(row: Mapping[Any, Any]) -> StoredAlert:
    return StoredAlert(
        fingerprint=row["fingerprint"],
        alertname=row["alertname"],
        service=row["service"],
        severity=row["severity"],
        status=row["status"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        labels=dict(row["labels"]),
        annotations=dict(row["annotations"]),
        generator_url=row["generator_url"],
        first_received_at=row["first_received_at"],
        last_received_at=row["last_received_at"],
    )
