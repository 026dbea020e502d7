"""Roll-ups: the statements that summarise stored rows into the hourly and daily tiers.

A roll-up row keeps, per SLO (or service) and hour (or UTC day), the **last** stored value of
each charted column (with ``at``, the time of the last evaluation summarised), its least
(``_min``) and greatest (``_max``) value and ``first_at``. These are summaries of stored samples;
no ratio is ever averaged (figures for a closed period come from ``sloctl.evaluation.period``).

Merging is idempotent: folding the same rows in twice gives the same row (min of mins, max of
maxes, the values of the latest ``at``), so a prune that crashed after committing a roll-up, or an
evaluation stored late for an hour already rolled up, is simply folded in again.

    merge_raw(conn, SLO, evaluation_ids, HOUR)       # raw rows of those evaluations -> hours
    merge_rollups(conn, SLO, day_start, day_end)     # hourly rows of [start, end) -> days
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import Over
from sqlalchemy.sql.functions import FunctionElement

from sloctl.store.schema import (
    DAY,
    HOUR,
    SIGNAL_COLUMNS,
    SLO_CHART_COLUMNS,
    signal_results,
    signal_rollups,
    slo_results,
    slo_rollups,
)


@dataclass(frozen=True)
class Kind:
    """One kind of history: its raw table, its roll-up table, its key and charted columns."""

    name: str  # "slo" or "signal"
    raw: Table
    rollups: Table
    key: str
    values: tuple[str, ...]
    extra: tuple[str, ...]  # columns copied from the last row (the SLO's service, objective)


@dataclass(frozen=True)
class Window:
    """One window per group, ordered latest first, its frame the whole group: every function
    over it shares one sort."""

    partition: tuple[ColumnElement[Any], ...]
    order: tuple[ColumnElement[Any], ...]

    def over(self, fn: FunctionElement[Any]) -> Over[Any]:
        return fn.over(partition_by=self.partition, order_by=self.order, rows=(None, None))


def columns(kind: Kind) -> list[str]:
    """The roll-up table's columns, in the order ``_summary`` selects them."""
    return [kind.key, "resolution", "bucket", "first_at", "at", "epoch", *kind.extra,
            *kind.values, *(f"{v}_min" for v in kind.values), *(f"{v}_max" for v in kind.values)]


SLO = Kind("slo", slo_results, slo_rollups, "slo_id", SLO_CHART_COLUMNS, ("service", "objective"))
SIGNAL = Kind("signal", signal_results, signal_rollups, "service", SIGNAL_COLUMNS, ())
KINDS = (SLO, SIGNAL)


def _summary(kind: Kind, source: Table, span: int, where: ColumnElement[bool],
             resolution: int, rolled: bool) -> Select[Any]:
    """One row per (key, bucket of ``span`` seconds) of ``source``'s rows matching ``where``, in
    ``columns(kind)`` order: the least and greatest values of the group (GROUP BY), the values of
    its last row (latest ``at``, then latest id or hour), joined back by key. ``rolled``:
    ``source`` is a roll-up table (its _min, _max and hours)."""
    c = source.c
    step: ColumnElement[int] = literal_column(str(span))  # SELECT, GROUP BY: the same text
    bucket = (c.epoch - c.epoch % step) if not rolled else (c.bucket - c.bucket % step)
    first = c.first_at if rolled else c.at
    groups = select(
        c[kind.key].label("k"),
        bucket.label("target"),
        func.min(first).label("first_at"),
        func.max(c.at).label("last_at"),
        *(func.min(c[f"{v}_min" if rolled else v]).label(f"{v}_min") for v in kind.values),
        *(func.max(c[f"{v}_max" if rolled else v]).label(f"{v}_max") for v in kind.values),
    ).where(where).group_by(c[kind.key], bucket).cte("groups")  # once, used twice
    tiebreak = c.bucket if rolled else c.id
    last = (
        select(groups.c.k, groups.c.target, func.max(tiebreak).label("row"))
        .select_from(groups.join(source, and_(c[kind.key] == groups.c.k,
                                              c.at == groups.c.last_at)))
        .where(where)
        .group_by(groups.c.k, groups.c.target)
        .subquery("last")
    )
    row = source.alias("last_row")
    if rolled:
        found = and_(row.c[kind.key] == last.c.k, row.c.resolution == HOUR,
                     row.c.bucket == last.c.row)
    else:
        found = row.c.id == last.c.row
    return (
        select(
            groups.c.k.label(kind.key),
            literal(resolution, Integer).label("resolution"),
            groups.c.target.label("bucket"),
            groups.c.first_at,
            row.c.at,
            row.c.epoch,
            *(row.c[name] for name in (*kind.extra, *kind.values)),
            *(groups.c[f"{v}_min"] for v in kind.values),
            *(groups.c[f"{v}_max"] for v in kind.values),
        )
        .select_from(groups.join(last, and_(last.c.k == groups.c.k,
                                            last.c.target == groups.c.target)).join(row, found))
        .where(groups.c.k.is_not(None))  # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE
    )


def _upsert(dialect: str, kind: Kind, rows: Select[Any]) -> Insert:
    """Insert ``rows`` (from ``_summary``), merged into the roll-ups already there."""
    from sqlalchemy.dialects import postgresql, sqlite  # here: reading commands never need them

    table = kind.rollups
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table).from_select(columns(kind), rows)
    new = stmt.excluded
    newer = new.at >= table.c.at
    updates: dict[str, Any] = {
        "first_at": case((new.first_at < table.c.first_at, new.first_at), else_=table.c.first_at),
        **{c: case((newer, new[c]), else_=table.c[c]) for c in ("at", "epoch", *kind.extra)},
    }
    for name in kind.values:
        low, high = f"{name}_min", f"{name}_max"
        updates[name] = case((newer, new[name]), else_=table.c[name])
        # NULL (unknown) never wins: a comparison with NULL is not true
        updates[low] = case((table.c[low].is_(None), new[low]), (new[low] < table.c[low], new[low]),
                            else_=table.c[low])
        updates[high] = case((table.c[high].is_(None), new[high]),
                             (new[high] > table.c[high], new[high]), else_=table.c[high])
    stmt = stmt.on_conflict_do_update(index_elements=[kind.key, "resolution", "bucket"],
                                      set_=updates)
    return stmt.execution_options(preserve_rowcount=True)  # rows inserted or updated


@cache
def _raw_statement(dialect: str, kind: Kind) -> Insert:
    where = kind.raw.c.evaluation_id.in_(bindparam("ids", expanding=True))
    return _upsert(dialect, kind, _summary(kind, kind.raw, HOUR, where, HOUR, rolled=False))


@cache
def _rollup_statement(dialect: str, kind: Kind) -> Insert:
    table = kind.rollups
    where = and_(table.c.resolution == HOUR, table.c.bucket >= bindparam("start"),
                 table.c.bucket < bindparam("end"))
    return _upsert(dialect, kind, _summary(kind, table, DAY, where, DAY, rolled=True))


def merge_raw(conn: Connection, kind: Kind, evaluation_ids: Sequence[int]) -> int:
    """Fold the raw rows of ``evaluation_ids`` into hourly roll-ups; returns rows written."""
    statement = _raw_statement(conn.dialect.name, kind)  # built once: it is large
    return int(conn.execute(statement, {"ids": list(evaluation_ids)}).rowcount or 0)


def merge_rollups(conn: Connection, kind: Kind, start: int, end: int) -> int:
    """Fold the hourly roll-ups of buckets ``[start, end)`` (Unix seconds) into daily ones."""
    statement = _rollup_statement(conn.dialect.name, kind)
    return int(conn.execute(statement, {"start": start, "end": end}).rowcount or 0)
