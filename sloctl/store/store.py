"""The store: every evaluation, current alert states and their transitions, in SQL.

SQLite by default (WAL), any SQLAlchemy URL (PostgreSQL) for larger installs. Writes are
transactional: an evaluation is stored completely or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.errors import StoreError
from sloctl.store import codec, history
from sloctl.store.database import URL_HELP, open_engine, shown
from sloctl.store.tables import (
    alert_states,
    alert_transitions,
    evaluations,
    metadata,
    service_catalog,
    signal_results,
    slo_catalog,
    slo_results,
)

if TYPE_CHECKING:  # pandas is imported only by the history queries (slow to import)
    import pandas as pd

_IN_CHUNK = 500  # keys per IN (...) list
T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """``itertools.batched`` (Python 3.12) for Python 3.11."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


class Store:
    """Evaluations and alert states in a SQL database (see module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = open_engine(url)
        try:
            metadata.create_all(self._engine)
        except SQLAlchemyError as err:
            self._engine.dispose()
            raise StoreError(
                f"cannot open the store {shown(url)}: {_first_line(err)}. Check that the database "
                f"is running and writable, or {URL_HELP}"
            ) from err

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for health checks and maintenance)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    # -- writing ------------------------------------------------------------------------------

    def save_evaluation(self, ev: Evaluation) -> int:
        """Store one evaluation in ONE transaction; returns its id."""
        return self.save_evaluations([ev])[0]

    def save_evaluations(self, evs: Iterable[Evaluation], batch_size: int = 500) -> list[int]:
        """Store evaluations in order, one transaction per ``batch_size`` (bulk backfill).

        A failure rolls back the failing batch only; the batches before it stay stored.
        """
        ids: list[int] = []
        for batch in batched(evs, batch_size):
            with self._transaction("saving evaluations to") as conn:
                ids.extend(self._save_batch(conn, batch))
        return ids

    def _save_batch(self, conn: Connection, evs: Sequence[Evaluation]) -> list[int]:
        eval_rows = [codec.evaluation_row(ev) for ev in evs]
        returning = insert(evaluations).returning(evaluations.c.id, sort_by_parameter_order=True)
        ids = list(conn.scalars(returning, eval_rows))
        slo_rows = [
            codec.slo_row(status, ev_id, position)
            for ev, ev_id in zip(evs, ids, strict=True)
            for position, status in enumerate(ev.slos)
        ]
        signal_rows = [
            row for ev, ev_id in zip(evs, ids, strict=True) for row in codec.signal_rows(ev, ev_id)
        ]
        if slo_rows:
            conn.execute(insert(slo_results), slo_rows)
        if signal_rows:
            conn.execute(insert(signal_results), signal_rows)
        self._save_alerts(conn, evs, ids)
        _upsert(
            conn,
            slo_catalog,
            "slo_id",
            [
                {"slo_id": s.slo_id, "service": s.service, "name": s.name, "last_at": s.at}
                for ev in evs
                for s in ev.slos
            ],
        )
        _upsert(
            conn,
            service_catalog,
            "service",
            [
                {"service": service, "last_at": ev.at}
                for ev in evs
                for service in (*(s.service for s in ev.slos), *(s.service for s in ev.signals))
            ],
        )
        return ids

    def _save_alerts(self, conn: Connection, evs: Sequence[Evaluation], ids: list[int]) -> None:
        """Upsert the current state per key; add a transition row whenever a state changes.

        An alert seen for the first time counts as a transition unless it is inactive. An alert
        older than the stored state (``updated_at`` before it: a backfilled past evaluation)
        changes neither the current state nor the transitions.
        """
        keys = {a.key for ev in evs for a in ev.alerts}
        known: dict[str, tuple[str, datetime]] = {}
        query = select(alert_states.c.key, alert_states.c.state, alert_states.c.updated_at)
        for chunk in batched(sorted(keys), _IN_CHUNK):
            for key, state, updated_at in conn.execute(query.where(alert_states.c.key.in_(chunk))):
                known[key] = (state, updated_at)
        transitions: list[dict[str, Any]] = []
        latest: dict[str, dict[str, Any]] = {}
        for ev, ev_id in zip(evs, ids, strict=True):
            for alert in ev.alerts:
                before = known.get(alert.key)
                if before is not None and alert.updated_at < before[1]:
                    continue
                if before is None:
                    changed = alert.state != AlertState.INACTIVE
                else:
                    changed = before[0] != alert.state
                row = codec.alert_row(alert)
                if changed:
                    from_state = before[0] if before else None
                    transitions.append({**row, "evaluation_id": ev_id, "from_state": from_state})
                known[alert.key] = (alert.state.value, alert.updated_at)
                latest[alert.key] = {**row, "evaluation_id": ev_id}
        if transitions:
            conn.execute(insert(alert_transitions), transitions)
        _upsert(conn, alert_states, "key", list(latest.values()))

    # -- reading ------------------------------------------------------------------------------

    def latest_evaluation(self) -> Evaluation | None:
        """The evaluation with the latest ``at`` (the last stored one on ties)."""
        return self._evaluation(None)

    def evaluation_at(self, at: datetime) -> Evaluation | None:
        """The latest evaluation at or before ``at``: the state of things at that instant."""
        return self._evaluation(at)

    def _evaluation(self, at: datetime | None) -> Evaluation | None:
        query = select(evaluations).order_by(evaluations.c.at.desc(), evaluations.c.id.desc())
        if at is not None:
            query = query.where(evaluations.c.at <= at)
        with self._transaction("reading") as conn:
            row = conn.execute(query.limit(1)).mappings().first()
            if row is None:
                return None
            slos = conn.execute(
                select(slo_results)
                .where(slo_results.c.evaluation_id == row["id"])
                .order_by(slo_results.c.position)
            ).mappings()
            signals = conn.execute(
                select(signal_results)
                .where(signal_results.c.evaluation_id == row["id"])
                .order_by(signal_results.c.position)
            ).mappings()
            return codec.evaluation(row, list(slos), list(signals))

    def alert_states(self) -> dict[str, AlertStatus]:
        """Current state per alert key (the state machine resumes from these after a restart)."""
        with self._transaction("reading") as conn:
            rows = conn.execute(select(alert_states).order_by(alert_states.c.key)).mappings()
            return {row["key"]: codec.alert_status(row) for row in rows}

    def alert_states_before(self, at: datetime) -> dict[str, AlertStatus]:
        """Alert states as the last evaluation before ``at`` left them (replaying the past)."""
        query = (
            select(evaluations.c.alerts)
            .where(evaluations.c.at < at)
            .order_by(evaluations.c.at.desc(), evaluations.c.id.desc())
            .limit(1)
        )
        with self._transaction("reading") as conn:
            docs = conn.scalar(query)
        return {a.key: a for a in (codec.decode_alert(d) for d in docs or [])}

    def alert_history(self, since: datetime | None = None) -> list[AlertStatus]:
        """Every state change (``updated_at`` >= ``since``), oldest first."""
        query = select(alert_transitions).order_by(
            alert_transitions.c.updated_at, alert_transitions.c.id
        )
        if since is not None:
            query = query.where(alert_transitions.c.updated_at >= since)
        with self._transaction("reading") as conn:
            return [codec.alert_status(row) for row in conn.execute(query).mappings()]

    def slo_ids(self) -> list[str]:
        """Every SLO id ever stored, sorted."""
        return self._catalog(slo_catalog.c.slo_id)

    def services(self) -> list[str]:
        """Every service ever stored (SLOs or signals), sorted."""
        return self._catalog(service_catalog.c.service)

    def _catalog(self, column: Any) -> list[str]:
        with self._transaction("reading") as conn:
            return list(conn.scalars(select(column).order_by(column)))

    def slo_history(
        self,
        slo_id: str,
        since: datetime,
        until: datetime | None = None,
        max_points: int | None = 500,
    ) -> pd.DataFrame:
        """``at`` (UTC), sli, budget_remaining, budget_remaining_minutes, burn_rate_1h/6h/1d/3d,
        burn_rate_period; at most ``max_points`` rows, the last row of each time bucket."""
        with self._transaction("reading") as conn:
            return history.slo_history(conn, slo_id, since, until, max_points)

    def signal_history(
        self,
        service: str,
        since: datetime,
        until: datetime | None = None,
        max_points: int | None = 500,
    ) -> pd.DataFrame:
        """``at`` (UTC) + one column per Signal; at most ``max_points`` rows (last per bucket)."""
        with self._transaction("reading") as conn:
            return history.signal_history(conn, service, since, until, max_points)

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        """A transaction (committed on success, rolled back on error); DB errors -> StoreError."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise StoreError(
                f"{action} the store {shown(self.url)} failed: {_first_line(err)}. "
                "Check that the database is reachable and writable (SQLite: disk space and "
                f"file permissions), or {URL_HELP}"
            ) from err


def _upsert(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Insert or update rows by primary key, portably (select the existing keys first).

    Rows with the same key: the last one wins.
    """
    by_key = {row[key]: row for row in rows}
    if not by_key:
        return
    existing: set[Any] = set()
    for chunk in batched(list(by_key), _IN_CHUNK):
        existing.update(conn.scalars(select(table.c[key]).where(table.c[key].in_(chunk))))
    new = [row for k, row in by_key.items() if k not in existing]
    old = [
        {"key_": k, **{c: v for c, v in row.items() if c != key}}
        for k, row in by_key.items()
        if k in existing
    ]
    if new:
        conn.execute(insert(table), new)
    if old:
        conn.execute(update(table).where(table.c[key] == bindparam("key_")), old)


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
