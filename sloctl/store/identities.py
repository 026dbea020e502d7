"""Alert identities: the static part of the alerts stored with evaluations, one row each.

``resolve`` gives the ids of the identities of some alerts, adding the missing ones in the
caller's transaction (a concurrent writer adding the same one is harmless: the digest is unique
and an insert that meets it does nothing); ``load`` reads identities by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from sloctl.core.alerts import AlertStatus
from sloctl.store import codec
from sloctl.store.rows import IN_CHUNK, batched
from sloctl.store.schema import alert_identities


def resolve(conn: Connection, alerts: Iterable[AlertStatus],
            table: Table = alert_identities) -> dict[str, int]:
    """digest -> id of each alert's identity, stored first when new."""
    wanted: dict[str, dict[str, Any]] = {}
    for a in alerts:
        row = codec.alert_identity(a)
        wanted.setdefault(row["digest"], row)
    found = _ids(conn, table, wanted)
    missing = [row for digest, row in wanted.items() if digest not in found]
    if missing:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(table).on_conflict_do_nothing(), missing)
        found |= _ids(conn, table, {row["digest"]: row for row in missing})
    return found


def _ids(conn: Connection, table: Table, digests: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    query = select(table.c.digest, table.c.id)
    for chunk in batched(sorted(digests), IN_CHUNK):
        found.update((digest, int(id_)) for digest, id_ in
                     conn.execute(query.where(table.c.digest.in_(chunk))))
    return found


def load(conn: Connection, ids: Iterable[int],
         table: Table = alert_identities) -> Mapping[int, Any]:
    """id -> identity row (a mapping with the columns of ``alert_identities``)."""
    rows: dict[int, Any] = {}
    for chunk in batched(sorted(set(ids)), IN_CHUNK):
        for row in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            rows[row["id"]] = row
    return rows
