"""Evaluations in the store: every cycle's SLOs, signals and alerts, and their history.

``store.evaluations.save(ev)`` writes the evaluation, its SLO and signal rows, the catalogs and
the alert states with their transitions in ONE transaction: stored completely or not at all.
``save(ev, slot=...)`` is a ``sloctl serve`` cycle: at most one evaluation is stored per slot
(a unique column); a second one raises ``CycleSlotTaken`` and stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.errors import StoreError
from sloctl.store import codec, history, identities
from sloctl.store.database import Database
from sloctl.store.rows import IN_CHUNK, batched, upsert
from sloctl.store.schema import (
    alert_states,
    alert_transitions,
    evaluations,
    service_catalog,
    signal_results,
    slo_catalog,
    slo_results,
)

if TYPE_CHECKING:  # pandas is imported only by the history queries (slow to import)
    import pandas as pd


class CycleSlotTaken(StoreError):
    """Another cycle (another replica, or this one before a restart) already stored this slot."""


class EvaluationReads:
    """Reading stored evaluations (``StoreReader.evaluations``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def latest(self) -> Evaluation | None:
        """The evaluation with the latest ``at`` (the last stored one on ties)."""
        return self._evaluation(None)

    def latest_at(self) -> datetime | None:
        """The instant of the latest stored evaluation (readiness: one index lookup)."""
        with self._db.read() as conn:
            at: datetime | None = conn.scalar(select(func.max(evaluations.c.at)))
            return at

    def at(self, instant: datetime) -> Evaluation | None:
        """The latest evaluation at or before ``instant``: the state of things then."""
        return self._evaluation(instant)

    def _evaluation(self, instant: datetime | None) -> Evaluation | None:
        query = select(evaluations).order_by(evaluations.c.at.desc(), evaluations.c.id.desc())
        if instant is not None:
            query = query.where(evaluations.c.at <= instant)
        with self._db.read() as conn:
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
            slo_rows, signal_rows = list(slos), list(signals)
            known = identities.load(conn, codec.alert_entry_ids(row["alert_entries"]))
            return codec.evaluation(row, slo_rows, signal_rows, known)

    def slo_ids(self) -> list[str]:
        """Every SLO id ever stored, sorted."""
        return self._catalog(slo_catalog.c.slo_id)

    def services(self) -> list[str]:
        """Every service ever stored (SLOs or signals), sorted."""
        return self._catalog(service_catalog.c.service)

    def _catalog(self, column: Any) -> list[str]:
        with self._db.read() as conn:
            return list(conn.scalars(select(column).order_by(column)))

    def slo_history(
        self,
        slo_id: str,
        since: datetime,
        until: datetime | None = None,
        max_points: int | None = 500,
    ) -> pd.DataFrame:
        """The SLO's history across tiers, oldest first (``sloctl.store.history``): ``at``
        (UTC); sli, budget_remaining, budget_remaining_minutes, burn_rate_1h/6h/1d/3d,
        burn_rate_period (the last values), each also ``_min`` and ``_max``; ``tier`` (raw,
        hourly, daily). At most ``max_points`` rows: the last row of each time bucket, with the
        least and greatest values over the bucket."""
        with self._db.read() as conn:
            return history.slo_history(conn, slo_id, since, until, max_points)

    def signal_history(
        self,
        service: str,
        since: datetime,
        until: datetime | None = None,
        max_points: int | None = 500,
    ) -> pd.DataFrame:
        """The service's golden signals across tiers, as ``slo_history``: ``at`` (UTC), one
        column per Signal, each also ``_min`` and ``_max``, ``tier``."""
        with self._db.read() as conn:
            return history.signal_history(conn, service, since, until, max_points)


class Evaluations(EvaluationReads):
    """Reading and writing evaluations (``Store.evaluations``)."""

    def save(self, ev: Evaluation, *, slot: datetime | None = None) -> int:
        """Store one evaluation in ONE transaction; returns its id. With ``slot`` (a serve
        cycle's interval slot) raises ``CycleSlotTaken`` when that slot is already stored."""
        if slot is None:
            return self.save_many([ev])[0]
        with self._db.write("saving an evaluation to") as conn:
            return write_cycle(conn, ev, slot)

    def save_many(self, evs: Iterable[Evaluation], batch_size: int = 500) -> list[int]:
        """Store evaluations in order, one transaction per ``batch_size`` (bulk backfill).

        A failure rolls back the failing batch only; the batches before it stay stored.
        """
        ids: list[int] = []
        for batch in batched(evs, batch_size):
            with self._db.write("saving evaluations to") as conn:
                ids.extend(_save_batch(conn, batch))
        return ids


def write_cycle(conn: Connection, ev: Evaluation, slot: datetime) -> int:
    """Write one serve cycle in the caller's transaction (see ``Evaluations.save``)."""
    taken = conn.scalar(select(evaluations.c.id).where(evaluations.c.cycle_slot == slot))
    if taken is None:
        try:
            with conn.begin_nested():  # a lost race leaves the outer transaction usable
                return _save_batch(conn, [ev], slot)[0]
        except IntegrityError as exc:
            if "cycle_slot" not in str(exc.orig):
                raise
    raise CycleSlotTaken(
        f"the evaluation slot {slot.isoformat()} is already stored (by another replica, or "
        "before a restart); this cycle is not stored"
    )


def _save_batch(
    conn: Connection, evs: Sequence[Evaluation], slot: datetime | None = None
) -> list[int]:
    known = identities.resolve(conn, (a for ev in evs for a in ev.alerts))
    eval_rows = [{**codec.evaluation_row(ev, known), "cycle_slot": slot} for ev in evs]
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
    _save_alerts(conn, evs, ids)
    upsert(
        conn,
        slo_catalog,
        "slo_id",
        [
            {"slo_id": s.slo_id, "service": s.service, "name": s.name, "last_at": s.at}
            for ev in evs
            for s in ev.slos
        ],
    )
    upsert(
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


def _save_alerts(conn: Connection, evs: Sequence[Evaluation], ids: list[int]) -> None:
    """Upsert the current state per key; add a transition row whenever a state changes.

    An alert seen for the first time counts as a transition unless it is inactive. An alert
    older than the stored state (``updated_at`` before it: a backfilled past evaluation)
    changes neither the current state nor the transitions.
    """
    keys = {a.key for ev in evs for a in ev.alerts}
    known: dict[str, tuple[str, datetime]] = {}
    query = select(alert_states.c.key, alert_states.c.state, alert_states.c.updated_at)
    for chunk in batched(sorted(keys), IN_CHUNK):
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
    upsert(conn, alert_states, "key", list(latest.values()))
