"""Alerts in the store: sloctl's own alert states and their transitions, and the Alertmanager log.

    store.alerts.states()                        # current state per key (the scheduler resumes)
    store.alerts.transitions(since=...)          # every state change, oldest first
    store.alerts.record(notification, received_at=datetime.now(UTC))  # one webhook body
    store.alerts.instances(since=...)            # received alert instances, for incidents

States and transitions are written with their evaluation (``store.evaluations.save``). A repeated
firing notification changes nothing but ``last_received_at``; a resolved one sets ``status`` and
``ends_at``; a late firing notification never reopens a resolved instance. A duplicate
delivery (nothing new nor resolved, the same as the group's last notification) only touches
``last_received_at``: retries and repeats do not grow the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, or_, select, update

from sloctl.core.alerts import AlertStatus
from sloctl.core.incidents import AlertInstance, service_of
from sloctl.store import codec, identities
from sloctl.store.database import Database
from sloctl.store.incidents import (
    DataGap,
    Notification,
    ReceivedAlert,
    RecordResult,
    StoredAlert,
)
from sloctl.store.rows import IN_CHUNK, batched
from sloctl.store.schema import (
    alert_states,
    alert_transitions,
    am_alerts,
    am_notifications,
    evaluations,
)


class AlertReads:
    """Reading alert states and received alerts (``StoreReader.alerts``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- sloctl's own alerts --------------------------------------------------------------------

    def states(self) -> dict[str, AlertStatus]:
        """Current state per alert key (the state machine resumes from these after a restart)."""
        with self._db.read() as conn:
            rows = conn.execute(select(alert_states).order_by(alert_states.c.key)).mappings()
            return {row["key"]: codec.alert_status(row) for row in rows}

    def states_before(self, at: datetime) -> dict[str, AlertStatus]:
        """Alert states as the last evaluation before ``at`` left them (replaying the past)."""
        query = (
            select(evaluations.c.at, evaluations.c.alert_entries)
            .where(evaluations.c.at < at)
            .order_by(evaluations.c.at.desc(), evaluations.c.id.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
            if row is None:
                return {}
            known = identities.load(conn, codec.alert_entry_ids(row.alert_entries))
        alerts = codec.decode_alert_entries(row.alert_entries, row.at, known)
        return {a.key: a for a in alerts}

    def transitions(self, since: datetime | None = None) -> list[AlertStatus]:
        """Every state change (``updated_at`` >= ``since``), oldest first."""
        query = select(alert_transitions).order_by(
            alert_transitions.c.updated_at, alert_transitions.c.id
        )
        if since is not None:
            query = query.where(alert_transitions.c.updated_at >= since)
        with self._db.read() as conn:
            return [codec.alert_status(row) for row in conn.execute(query).mappings()]

    # -- received from Alertmanager -------------------------------------------------------------

    def firing(self, limit: int | None = None) -> list[StoredAlert]:
        """Alert instances firing now (no resolved notification yet), newest first; the newest
        ``limit`` only when given."""
        return list(self.iter_firing(limit))

    def iter_firing(
        self, limit: int | None = None, batch: int = 1000, alertnames: Collection[str] | None = None
    ) -> Iterator[StoredAlert]:
        """``firing`` as a stream: rows are fetched ``batch`` at a time while they are used
        (constant memory for any number of stored alerts); of ``alertnames`` only when given."""
        query = (
            select(am_alerts)
            .where(am_alerts.c.status == "firing")
            .order_by(am_alerts.c.starts_at.desc(), am_alerts.c.id.desc())
        )
        if alertnames is not None:
            query = query.where(am_alerts.c.alertname.in_(sorted(alertnames)))
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            rows = conn.execution_options(yield_per=batch).execute(query).mappings()
            for row in rows:
                yield _stored(row)

    def received(
        self, since: datetime | None = None, service: str | None = None
    ) -> list[StoredAlert]:
        """Instances active at or after ``since`` (firing or ended after it), oldest first."""
        query = select(am_alerts).order_by(am_alerts.c.starts_at, am_alerts.c.id)
        if since is not None:
            query = query.where(or_(am_alerts.c.ends_at.is_(None), am_alerts.c.ends_at >= since))
        if service is not None:
            query = query.where(am_alerts.c.service == service)
        return self._received(query)

    def instances(
        self, since: datetime | None = None, service: str | None = None
    ) -> list[AlertInstance]:
        """Alert instances active at or after ``since`` (for ``core.incidents.build_incidents``)."""
        return [
            AlertInstance(a.fingerprint, a.starts_at, a.ends_at, a.labels)
            for a in self.received(since, service)
        ]

    def count(self) -> int:
        """Number of stored alert instances."""
        with self._db.read() as conn:
            return int(conn.scalar(select(func.count()).select_from(am_alerts)) or 0)

    def data_gaps(self, since: datetime | None = None) -> list[DataGap]:
        """Notifications with ``truncatedAlerts`` > 0, oldest first."""
        t = am_notifications.c
        query = select(am_notifications).where(t.truncated_alerts > 0).order_by(t.received_at)
        if since is not None:
            query = query.where(t.received_at >= since)
        with self._db.read() as conn:
            return [
                DataGap(r["received_at"], r["receiver"], r["group_key"], r["alert_count"],
                        r["truncated_alerts"])
                for r in conn.execute(query).mappings()
            ]

    def _received(self, query: Select[Any]) -> list[StoredAlert]:
        with self._db.read() as conn:
            return [_stored(row) for row in conn.execute(query).mappings()]


class Alerts(AlertReads):
    """Alert states and the Alertmanager log, writable (``Store.alerts``)."""

    def record(self, notification: Notification, received_at: datetime) -> RecordResult:
        """Store the notification and upsert its alerts in ONE transaction."""
        incoming: dict[tuple[str, datetime], ReceivedAlert] = {}
        for a in notification.alerts:
            incoming[(a.fingerprint, a.starts_at)] = a
        with self._db.write("recording an Alertmanager notification in") as conn:
            known = _known(conn, incoming)
            last_id = _same_as_last(conn, notification)
            duplicate = last_id and all(
                key in known and (a.status != "resolved" or known[key][1] == "resolved")
                for key, a in incoming.items()
            )
            if duplicate:
                touch = [{"id_": known[key][0], "last_received_at": received_at}
                         for key in incoming]
                if touch:
                    conn.execute(update(am_alerts).where(am_alerts.c.id == bindparam("id_")),
                                 touch)
                return RecordResult(last_id, 0, 0, len(touch))
            # Two bodies inserting the same new instance at once (PostgreSQL): the loser violates
            # the unique index, answers 503, and Alertmanager's retry finds the instance known.
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


def _same_as_last(conn: Connection, notification: Notification) -> int:
    """The id of the group's last notification when it matches this one (a duplicate
    delivery), else 0."""
    t = am_notifications.c
    last = conn.execute(
        select(t.id, t.status, t.receiver, t.alert_count, t.truncated_alerts)
        .where(t.group_key == notification.group_key)
        .order_by(t.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    same = (last.status, last.receiver, last.alert_count, last.truncated_alerts) == (
        notification.status, notification.receiver, len(notification.alerts),
        notification.truncated_alerts,
    )
    return int(last.id) if same else 0


def _known(
    conn: Connection, incoming: Mapping[tuple[str, datetime], ReceivedAlert]
) -> dict[tuple[str, datetime], tuple[int, str]]:
    """Stored ``(id, status)`` of the incoming instances, by key."""
    query = select(am_alerts.c.id, am_alerts.c.fingerprint, am_alerts.c.starts_at,
                   am_alerts.c.status)
    fingerprints = sorted({fp for fp, _ in incoming})
    known: dict[tuple[str, datetime], tuple[int, str]] = {}
    for chunk in batched(fingerprints, IN_CHUNK):
        for row_id, fp, starts_at, status in conn.execute(
            query.where(am_alerts.c.fingerprint.in_(chunk))
        ):
            if (fp, starts_at) in incoming:
                known[(fp, starts_at)] = (row_id, status)
    return known


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
