"""Retention: every evaluation for ``raw_days``, then hourly roll-ups, then daily ones, then none.

    policy = RetentionPolicy(raw_days=8, hourly_days=90, daily_days=400)
    store.retention.plan(now, policy)                 # what a prune would remove (reads only)
    store.retention.prune(now, policy, budget=15.0)   # roll up, then delete; bounded in time

A prune works oldest first:

1. **raw -> hourly**, whole hours at a time (about ``CHUNK`` evaluations, at least an hour): one
   transaction folds the SLO and signal rows of those evaluations into ``slo_rollups`` and
   ``signal_rollups`` (``sloctl.store.rollups``) and commits; then those evaluations (their SLO
   and signal rows, their alert snapshot) are deleted in batches. A crash in between loses
   nothing: those hours have their roll-ups, and the next prune folds their remaining raw rows
   in again (an idempotent merge) and deletes them. Only the
   evaluations that were folded in are deleted, so one stored meanwhile (``eval --at`` into an old
   hour) waits for the next prune. Trace findings of those hours are deleted too.
2. **hourly -> daily**, one UTC day at a time, in one transaction per day.
3. **daily** roll-ups older than ``daily_days`` are deleted.

Never pruned: alert states and transitions, Alertmanager's notifications and alerts (incidents),
deployments and incident links, DORA scorecards, the weekly report's tables, the catalogs, the
alert identities (the static part of the alerts stored with evaluations).

Readers see one history across tiers (``sloctl.store.history``): where an hour (or day) has a
roll-up it is used, so an hour is never shown half deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, select, text

from sloctl.store.codec import epoch
from sloctl.store.database import Database
from sloctl.store.rollups import KINDS, merge_raw, merge_rollups
from sloctl.store.rows import IN_CHUNK, batched
from sloctl.store.schema import (
    DAY,
    HOUR,
    evaluations,
    signal_results,
    signal_rollups,
    slo_results,
    slo_rollups,
    span_disagreements,
    trace_checks,
    trace_exemplars,
)

log = logging.getLogger(__name__)

CHUNK = 120  # evaluations rolled up per transaction, in whole hours (at least one)
DELETE_BATCH = 120  # evaluations (with their SLO and signal rows) per delete transaction
RAW, HOURLY, DAILY = "raw", "hourly", "daily"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each tier is kept, in days of age (each at least the one before)."""

    raw_days: int = 8
    hourly_days: int = 90
    daily_days: int = 400

    def __post_init__(self) -> None:
        if not 1 <= self.raw_days <= self.hourly_days <= self.daily_days:
            raise ValueError(
                "retention must keep raw evaluations at least 1 day, hourly roll-ups at least as "
                "long as raw ones and daily roll-ups at least as long as hourly ones; got "
                f"raw_days={self.raw_days}, hourly_days={self.hourly_days}, "
                f"daily_days={self.daily_days}"
            )

    def cutoffs(self, now: datetime) -> Cutoffs:
        """What is older than what, at ``now`` (whole hours for raw, whole UTC days after)."""
        return Cutoffs(
            raw=_floor(now - timedelta(days=self.raw_days), HOUR),
            hourly=_floor(now - timedelta(days=self.hourly_days), DAY),
            daily=_floor(now - timedelta(days=self.daily_days), DAY),
        )


def _floor(at: datetime, seconds: int) -> datetime:
    stamp = epoch(at)
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)


@dataclass(frozen=True)
class Cutoffs:
    raw: datetime  # evaluations before this are rolled up into hours, then deleted
    hourly: datetime  # hourly roll-ups before this are rolled up into days, then deleted
    daily: datetime  # daily roll-ups before this are deleted


@dataclass
class PruneReport:
    """What a prune removed (or, from ``plan``, would remove), per (tier, table)."""

    cutoffs: Cutoffs
    deleted: dict[tuple[str, str], int] = field(default_factory=dict)
    rolled_up: dict[tuple[str, str], int] = field(default_factory=dict)  # roll-up rows written
    bytes: dict[tuple[str, str], int] = field(default_factory=dict)  # estimates (PostgreSQL)
    finished: bool = True  # False: the time budget ran out; the next prune goes on
    seconds: float = 0.0

    def add(self, counts: dict[tuple[str, str], int], tier: str, table: str, rows: int) -> None:
        counts[(tier, table)] = counts.get((tier, table), 0) + rows


class RetentionReads:
    """What a prune would remove (``StoreReader.retention``): reads only."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def plan(self, now: datetime, policy: RetentionPolicy) -> PruneReport:
        """Rows a prune at ``now`` would delete per tier and table, and the roll-up rows it would
        write for the raw ones; bytes estimated from the tables' sizes on PostgreSQL."""
        started = time.monotonic()
        cut = policy.cutoffs(now)
        report = PruneReport(cut)
        with self._db.read("planning a prune of") as conn:
            old = select(evaluations.c.id).where(evaluations.c.at < cut.raw).scalar_subquery()
            old_checks = select(trace_checks.c.id).where(trace_checks.c.at < cut.raw)
            counts: list[tuple[str, Table, Any]] = [
                (RAW, evaluations, evaluations.c.at < cut.raw),
                (RAW, slo_results, slo_results.c.evaluation_id.in_(old)),
                (RAW, signal_results, signal_results.c.evaluation_id.in_(old)),
                (RAW, trace_checks, trace_checks.c.at < cut.raw),
                (RAW, trace_exemplars, trace_exemplars.c.check_id.in_(old_checks)),
                (RAW, span_disagreements, span_disagreements.c.check_id.in_(old_checks)),
            ]
            for kind in KINDS:
                t = kind.rollups
                counts.append((HOURLY, t, and_(t.c.resolution == HOUR,
                                               t.c.bucket < epoch(cut.hourly))))
                counts.append((DAILY, t, and_(t.c.resolution == DAY,
                                              t.c.bucket < epoch(cut.daily))))
            for tier, table, where in counts:
                rows = int(conn.scalar(select(func.count()).select_from(table).where(where)) or 0)
                if rows:
                    report.add(report.deleted, tier, table.name, rows)
            for kind in KINDS:
                hour = kind.raw.c.epoch - kind.raw.c.epoch % HOUR
                groups = (select(kind.raw.c[kind.key], hour).distinct()
                          .where(kind.raw.c.evaluation_id.in_(old)).subquery())
                rows = int(conn.scalar(select(func.count()).select_from(groups)) or 0)
                if rows:
                    report.add(report.rolled_up, HOURLY, kind.rollups.name, rows)
            if conn.dialect.name == "postgresql":
                report.bytes = _estimated_bytes(conn, report.deleted)
        report.seconds = time.monotonic() - started
        return report


def _estimated_bytes(conn: Connection, rows: dict[tuple[str, str], int]) -> dict[
        tuple[str, str], int]:
    """Rows x the table's average bytes per row (its size with indexes and TOAST / its row
    estimate): cheap, from PostgreSQL's catalog."""
    sizes: dict[tuple[str, str], int] = {}
    for (tier, table), count in rows.items():
        total, estimate = conn.execute(text(
            "SELECT pg_total_relation_size(c.oid), c.reltuples FROM pg_class c "
            "WHERE c.oid = to_regclass(:t)"), {"t": table}).one()
        if not estimate or estimate <= 0:  # never analysed (a new or small table): count it
            estimate = conn.scalar(text(f'SELECT count(*) FROM "{table}"'))
        if estimate:
            sizes[(tier, table)] = int(total / estimate * count)
    return sizes


class Retention(RetentionReads):
    """Pruning (``Store.retention``): roll up, then delete (see the module docstring)."""

    def prune(
        self,
        now: datetime,
        policy: RetentionPolicy,
        *,
        budget: float | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> PruneReport:
        """Prune what ``policy`` no longer keeps at ``now``, oldest first.

        ``budget`` (seconds): stop between two transactions once it is spent (``finished`` is
        then False and the next prune goes on from there). Raises StoreError.
        """
        started = time.monotonic()
        report = PruneReport(policy.cutoffs(now))
        deadline = None if budget is None else started + budget
        steps = (self._raw_to_hourly, self._trace_findings, self._hourly_to_daily,
                 self._expire_daily)
        for step in steps:
            if not step(report, deadline, progress or (lambda _message: None)):
                report.finished = False
                break
        report.seconds = time.monotonic() - started
        return report

    # -- 1. raw -> hourly ----------------------------------------------------------------------

    def _raw_to_hourly(self, report: PruneReport, deadline: float | None,
                       progress: Callable[[str], None]) -> bool:
        cut = report.cutoffs.raw
        hour = self._next(evaluations.c.at, None, cut)
        while hour is not None:
            if _late(deadline):
                return False
            start = _floor(hour, HOUR)
            end = self._chunk_end(start, cut)
            with self._db.write("rolling up the evaluations of") as conn:
                ids = list(conn.scalars(select(evaluations.c.id).where(
                    evaluations.c.at >= start, evaluations.c.at < end)))
                for kind in KINDS:
                    for chunk in batched(ids, IN_CHUNK):
                        report.add(report.rolled_up, HOURLY, kind.rollups.name,
                                   merge_raw(conn, kind, chunk))
            for batch in batched(ids, DELETE_BATCH):  # only what was rolled up above
                with self._db.write("pruning evaluations from") as conn:
                    for table in (slo_results, signal_results):
                        _delete(conn, report, RAW, table, table.c.evaluation_id.in_(batch))
                    _delete(conn, report, RAW, evaluations, evaluations.c.id.in_(batch))
                if _late(deadline):
                    return False
            progress(f"raw evaluations until {end:%Y-%m-%d %H:%M} rolled up into hours")
            hour = self._next(evaluations.c.at, end, cut)
        return True

    # -- trace findings of the raw tier --------------------------------------------------------

    def _trace_findings(self, report: PruneReport, deadline: float | None,
                        progress: Callable[[str], None]) -> bool:
        cut = report.cutoffs.raw
        while True:
            if _late(deadline):
                return False
            with self._db.write("pruning trace findings from") as conn:
                ids = list(conn.scalars(select(trace_checks.c.id).where(trace_checks.c.at < cut)
                                        .order_by(trace_checks.c.at).limit(IN_CHUNK)))
                if not ids:
                    return True
                for table in (trace_exemplars, span_disagreements):
                    _delete(conn, report, RAW, table, table.c.check_id.in_(ids))
                _delete(conn, report, RAW, trace_checks, trace_checks.c.id.in_(ids))
            progress(f"{len(ids)} trace checks deleted")

    # -- 2. hourly -> daily --------------------------------------------------------------------

    def _hourly_to_daily(self, report: PruneReport, deadline: float | None,
                         progress: Callable[[str], None]) -> bool:
        cut = epoch(report.cutoffs.hourly)
        day = self._next_bucket(HOUR, None, cut)
        while day is not None:
            if _late(deadline):
                return False
            start = day - day % DAY
            end = min(start + DAY, cut)
            with self._db.write("rolling up the hourly history of") as conn:
                if conn.dialect.name == "postgresql":  # one prune at a time folds roll-ups
                    conn.exec_driver_sql("LOCK TABLE slo_rollups, signal_rollups "
                                         "IN SHARE ROW EXCLUSIVE MODE")
                for kind in KINDS:
                    report.add(report.rolled_up, DAILY, kind.rollups.name,
                               merge_rollups(conn, kind, start, end))
                    t = kind.rollups
                    _delete(conn, report, HOURLY, t, and_(
                        t.c.resolution == HOUR, t.c.bucket >= start, t.c.bucket < end))
            progress(f"hourly history of {datetime.fromtimestamp(start, UTC):%Y-%m-%d} "
                     "rolled up into days")
            day = self._next_bucket(HOUR, end, cut)
        return True

    # -- 3. daily roll-ups expire --------------------------------------------------------------

    def _expire_daily(self, report: PruneReport, deadline: float | None,
                      progress: Callable[[str], None]) -> bool:
        if _late(deadline):
            return False
        cut = epoch(report.cutoffs.daily)
        with self._db.write("pruning the daily history of") as conn:
            for t in (slo_rollups, signal_rollups):
                _delete(conn, report, DAILY, t, and_(t.c.resolution == DAY, t.c.bucket < cut))
        progress("daily history older than the retention deleted")
        return True

    # -- helpers -------------------------------------------------------------------------------

    def _chunk_end(self, start: datetime, cut: datetime) -> datetime:
        """The end of the whole hours from ``start`` that hold about ``CHUNK`` evaluations (at
        least one hour, at most up to ``cut``): one roll-up transaction."""
        with self._db.read() as conn:
            later = conn.scalar(select(evaluations.c.at).where(
                evaluations.c.at >= start, evaluations.c.at < cut)
                .order_by(evaluations.c.at).offset(CHUNK).limit(1))
        if later is None:
            return cut
        return max(_floor(later, HOUR), start + timedelta(seconds=HOUR))

    def _next(self, at: Any, after: datetime | None, before: datetime) -> datetime | None:
        """The earliest ``at`` in ``[after, before)``."""
        where = at < before if after is None else and_(at >= after, at < before)
        with self._db.read() as conn:
            found: datetime | None = conn.scalar(select(func.min(at)).where(where))
        return found

    def _next_bucket(self, resolution: int, after: int | None, before: int) -> int | None:
        """The earliest roll-up bucket of ``resolution`` in ``[after, before)``, either kind."""
        found: list[int] = []
        with self._db.read() as conn:
            for t in (slo_rollups, signal_rollups):
                where = and_(t.c.resolution == resolution, t.c.bucket < before)
                if after is not None:
                    where = and_(where, t.c.bucket >= after)
                value = conn.scalar(select(func.min(t.c.bucket)).where(where))
                if value is not None:
                    found.append(int(value))
        return min(found) if found else None


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _delete(conn: Connection, report: PruneReport, tier: str, table: Table, where: Any) -> None:
    rows = int(conn.execute(delete(table).where(where)).rowcount or 0)
    if rows:
        report.add(report.deleted, tier, table.name, rows)


def summary(counts: dict[tuple[str, str], int]) -> Sequence[tuple[str, str, int]]:
    """(tier, table, rows) sorted by tier (raw, hourly, daily) then table."""
    order = {RAW: 0, HOURLY: 1, DAILY: 2}
    return sorted(((t, n, r) for (t, n), r in counts.items()), key=lambda x: (order[x[0]], x[1]))
