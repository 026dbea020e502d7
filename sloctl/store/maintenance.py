"""Maintenance windows made with ``sloctl maintenance`` (``store.maintenance``).

Removing a window is reversible: it is marked removed (no longer excluded) and can be restored;
nothing is deleted, so every exclusion ever applied stays on record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from sloctl.core.maintenance import Maintenance
from sloctl.errors import StoreError
from sloctl.store.database import Database
from sloctl.store.schema import maintenance_windows as table


class MaintenanceReads:
    """Reading maintenance windows (``StoreReader.maintenance``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def between(self, start: datetime, end: datetime) -> list[Maintenance]:
        """The windows in effect (not removed) that overlap ``[start, end)``, by start."""
        query = (
            select(table)
            .where(table.c.removed_at.is_(None), table.c.starts_at < end, table.c.ends_at > start)
            .order_by(table.c.starts_at, table.c.id)
        )
        with self._db.read() as conn:
            return [_window(r) for r in conn.execute(query).mappings()]

    def listing(self, *, since: datetime | None = None, removed: bool = False
                ) -> list[dict[str, Any]]:
        """Every window (with author, creation and removal) ending after ``since``, by start;
        removed ones only with ``removed``."""
        query = select(table).order_by(table.c.starts_at, table.c.id)
        if since is not None:
            query = query.where(table.c.ends_at > since)
        if not removed:
            query = query.where(table.c.removed_at.is_(None))
        with self._db.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


class MaintenanceWindows(MaintenanceReads):
    """Adding, removing and restoring maintenance windows (``Store.maintenance``)."""

    def add(self, window: Maintenance, *, author: str, now: datetime) -> Maintenance:
        """Store ``window`` and return it with its id."""
        row = {
            "service": window.service,
            "slo_id": window.slo_id,
            "starts_at": window.start,
            "ends_at": window.end,
            "reason": window.reason,
            "author": author,
            "created_at": now,
        }
        with self._db.write("adding a maintenance window to") as conn:
            new_id = conn.execute(insert(table).returning(table.c.id), row).scalar_one()
        return Maintenance(window.start, window.end, window.reason, window.service,
                           window.slo_id, int(new_id))

    def remove(self, window_id: int, *, now: datetime) -> None:
        """Stop excluding window ``window_id`` (it stays on record; ``restore`` undoes this)."""
        self._set_removed(window_id, now, "removing")

    def restore(self, window_id: int) -> None:
        """Exclude a removed window again."""
        self._set_removed(window_id, None, "restoring")

    def _set_removed(self, window_id: int, at: datetime | None, verb: str) -> None:
        query = update(table).where(table.c.id == window_id).values(removed_at=at)
        if at is not None:
            query = query.where(or_(table.c.removed_at.is_(None)))
        with self._db.write(f"{verb} a maintenance window in") as conn:
            if conn.execute(query).rowcount == 0:
                raise StoreError(
                    f"no maintenance window {window_id} to {verb.removesuffix('ing')}e; "
                    "`sloctl maintenance list --removed` shows every window and its id"
                )


def _window(row: Any) -> Maintenance:
    return Maintenance(row["starts_at"], row["ends_at"], row["reason"], row["service"],
                       row["slo_id"], int(row["id"]))
